namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>
/// The machine's Chromium, which the browser tests drive through Playwright. Playwright's own browser download is never
/// used: the test command installs Debian's chromium, and a missing browser fails the test with a message, not a skip.
/// </summary>
public static class Chromium
{
    /// <summary>Set to a Chromium or Chrome executable to use another browser than the machine's.</summary>
    public const string Variable = "WEBHOOKRECEIVER_TEST_CHROMIUM";

    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

    /// <summary>Flags a headless Chromium needs on a machine with no network but loopback, running as root.</summary>
    public static readonly string[] Flags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    public static string ExecutablePath()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : throw new InvalidOperationException($"{Variable}={configured}: no such file.");
        }

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, "chromium"));
        return Candidates.Concat(onPath).FirstOrDefault(File.Exists) ?? throw new InvalidOperationException(
            $"Chromium is not installed (looked for {string.Join(", ", Candidates)} and chromium on PATH). The browser tests need it: run `bash scripts/test.sh`, " +
            $"which installs it, or `apt-get install chromium`, or set {Variable} to a Chromium executable.");
    }
}
