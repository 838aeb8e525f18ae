using System.Diagnostics;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Conventions;

/// <summary>What the repository itself must never hold.</summary>
public sealed class RepositoryTests
{
    [Fact]
    public void No_tracked_file_holds_a_merge_conflict_marker()
    {
        var marked = TrackedFiles()
            .Select(f => (File: f, Lines: File.ReadLines(Path.Combine(BuiltService.RepositoryRoot, f))
                .Select((line, i) => (line, number: i + 1))
                .Where(l => l.line.StartsWith("<<<<<<< ", StringComparison.Ordinal) || l.line.StartsWith(">>>>>>> ", StringComparison.Ordinal) || l.line == "=======")
                .Select(l => l.number).ToList()))
            .Where(f => f.Lines.Count > 0)
            .Select(f => $"{f.File}: lines {string.Join(", ", f.Lines)}");

        Assert.Empty(marked);
    }

    private static List<string> TrackedFiles()
    {
        var start = new ProcessStartInfo("git", ["ls-files", "-z"]) { WorkingDirectory = BuiltService.RepositoryRoot, RedirectStandardOutput = true };
        using var git = Process.Start(start)!;
        var listed = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        Assert.True(git.ExitCode == 0, $"git ls-files failed in {BuiltService.RepositoryRoot}");
        return listed.Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Where(f => File.Exists(Path.Combine(BuiltService.RepositoryRoot, f)) && !IsBinary(f)).ToList();
    }

    private static bool IsBinary(string file) => Path.GetExtension(file) is ".png" or ".jpg" or ".ico" or ".dll" or ".woff2";
}
