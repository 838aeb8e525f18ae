using System.Diagnostics;

namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>Runs a system command to its end (mount, pg_ctl...), failing with its output when it fails.</summary>
public static class Command
{
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Runs <paramref name="file"/> with <paramref name="arguments"/>; throws with its output on a non-zero exit.</summary>
    public static async Task<string> RunAsync(string file, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var output = await stdout + await stderr;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"`{file} {string.Join(' ', start.ArgumentList)}` exited with {process.ExitCode}: {output}");
        }

        return output;
    }

    /// <summary>Runs a command that needs root: directly as root, else through <c>sudo -n</c> (CI runners have it without a password).</summary>
    public static Task<string> RunAsRootAsync(string file, params string[] arguments) =>
        IsRoot ? RunAsync(file, arguments) : RunAsync("sudo", ["-n", file, .. arguments]);
}
