using System.Text.Json;
using System.Text.RegularExpressions;

namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>One instruction of a Dockerfile: its keyword (upper case) and the rest of its line, continuations joined.</summary>
public sealed record DockerInstruction(string Keyword, string Arguments)
{
    /// <summary>The arguments of an exec-form instruction (<c>["dotnet", "x.dll"]</c>).</summary>
    public string[] ExecForm(string? after = null)
    {
        var json = after is null ? Arguments : Arguments[(Arguments.IndexOf(after, StringComparison.Ordinal) + after.Length)..];
        return JsonSerializer.Deserialize<string[]>(json.Trim()) ?? throw new InvalidOperationException($"{Keyword} {Arguments}: not exec form");
    }

    public string[] Words() => Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>A build stage: <c>FROM image AS name</c> and its instructions.</summary>
public sealed record DockerStage(string Image, string? Name, IReadOnlyList<DockerInstruction> Instructions)
{
    public IEnumerable<DockerInstruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);

    public DockerInstruction Only(string keyword) => Assert.Single(All(keyword));
}

/// <summary>The repository's Dockerfile, read as Docker reads it (comments, line continuations, stages).</summary>
public static class Dockerfile
{
    public static IReadOnlyList<DockerStage> Parse(string path)
    {
        var logical = Regex.Replace(File.ReadAllText(path), @"\\\r?\n", " ");
        var stages = new List<(string Image, string? Name, List<DockerInstruction> Instructions)>();
        foreach (var line in logical.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var instruction = new DockerInstruction(line[..space].ToUpperInvariant(), line[(space + 1)..].Trim());
            if (instruction.Keyword == "FROM")
            {
                var words = instruction.Words();
                stages.Add((words[0], words.Length == 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null, []));
            }
            else
            {
                stages[^1].Instructions.Add(instruction);
            }
        }

        return stages.Select(s => new DockerStage(s.Image, s.Name, s.Instructions)).ToList();
    }
}

/// <summary>
/// <c>.dockerignore</c> as Docker applies it to the build context: a path is left out when it or a folder above it
/// matches a pattern; <c>*</c> and <c>?</c> stay within one path segment and a leading <c>**/</c> matches any depth.
/// </summary>
public sealed class DockerIgnore
{
    private readonly List<Regex> _patterns = [];

    public DockerIgnore(string path)
    {
        foreach (var line in File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            // Exceptions ('!') and '**' in the middle of a pattern are not modelled here: refuse them rather than disagree with Docker.
            Assert.False(line.StartsWith('!') || line.TrimStart('*', '/').Contains("**", StringComparison.Ordinal),
                $".dockerignore pattern '{line}' is not supported by the container test");
            var pattern = line.Trim('/');
            var regex = (pattern.StartsWith("**/", StringComparison.Ordinal) ? "(.*/)?" : "") +
                Regex.Escape(pattern.StartsWith("**/", StringComparison.Ordinal) ? pattern[3..] : pattern).Replace(@"\*", "[^/]*").Replace(@"\?", "[^/]");
            _patterns.Add(new Regex("^" + regex + "$", RegexOptions.CultureInvariant));
        }
    }

    /// <summary>True when <paramref name="relativePath"/> (with '/' separators) is left out of the context.</summary>
    public bool Excludes(string relativePath)
    {
        var segments = relativePath.Split('/');
        for (var i = 1; i <= segments.Length; i++)
        {
            var prefix = string.Join('/', segments[..i]);
            if (_patterns.Any(p => p.IsMatch(prefix)))
            {
                return true;
            }
        }

        return false;
    }
}
