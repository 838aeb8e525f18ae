using System.Globalization;

namespace WebhookReceiver.Console;

/// <summary>How the console writes values, in its components.</summary>
internal static class ConsoleText
{
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>The errors of a list's filters (as <see cref="Kernel.QueryParameters"/> names them), one line each: <c>parameter: what it must be</c>.</summary>
    public static IReadOnlyList<string> ErrorLines(Dictionary<string, string[]> errors) =>
        errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}").ToList();
}
