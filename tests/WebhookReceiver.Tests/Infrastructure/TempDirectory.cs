namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>A folder of its own for one test, removed afterwards.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("webhook-receiver-tests-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process of the test may still hold a file for a moment; the OS temp folder is cleaned eventually.
        }
    }
}
