using System.Text.RegularExpressions;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Conventions;

/// <summary>
/// The library's folders depend one way (docs/architecture.md): a folder's <c>using WebhookReceiver.X;</c> lines are
/// its edges, and the graph they make has no cycle. Files at the library's root compose the rest and are left out.
/// </summary>
public sealed partial class LayeringTests
{
    [Fact]
    public void The_library_folders_using_each_other_form_no_cycle()
    {
        var library = Path.Combine(BuiltService.RepositoryRoot, "src", "WebhookReceiver.Core");
        var edges = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(library, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(library, file).Split(Path.DirectorySeparatorChar);
            if (relative.Length < 2 || relative[0] is "bin" or "obj")
            {
                continue;
            }

            var folder = relative[0];
            foreach (Match used in UsingOfFolder().Matches(File.ReadAllText(file)))
            {
                if (used.Groups[1].Value != folder)
                {
                    (edges.TryGetValue(folder, out var targets) ? targets : edges[folder] = []).Add(used.Groups[1].Value);
                }
            }
        }

        Assert.Contains("Inbox", edges["Ingress"]); // the graph was read: ingest writes to the inbox
        var cycles = edges.Keys.Select(start => PathBack(edges, start)).OfType<string>().ToList();
        Assert.True(cycles.Count == 0, "Folder cycles: " + string.Join("; ", cycles));
    }

    // A path from start back to itself, or null.
    private static string? PathBack(Dictionary<string, HashSet<string>> edges, string start)
    {
        var pending = new Stack<List<string>>([[start]]);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (pending.TryPop(out var path))
        {
            foreach (var next in edges.GetValueOrDefault(path[^1]) ?? [])
            {
                if (next == start)
                {
                    return string.Join(" -> ", path.Append(next));
                }

                if (seen.Add(next))
                {
                    pending.Push([.. path, next]);
                }
            }
        }

        return null;
    }

    [GeneratedRegex(@"^using (?:static )?WebhookReceiver\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex UsingOfFolder();
}
