using System.Collections;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Kernel;
using WebhookReceiver.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookReceiver.Tests.Configuration;

/// <summary>
/// The README's settings table is the options types written out: one row per setting the service binds, with its C#
/// default, read from the types themselves (every section the running service binds), never from a list kept by hand.
/// </summary>
public sealed partial class ReadmeSettingsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_README_table_has_one_row_per_setting_the_code_binds_with_its_real_default()
    {
        var code = await SettingsAsync();
        var readme = ReadmeRows();
        foreach (var (key, value) in code)
        {
            output.WriteLine($"| `{key}` | {value} |");
        }

        Assert.Empty(readme.GroupBy(r => r.Key).Where(g => g.Count() > 1).Select(g => $"{g.Key} has {g.Count()} rows"));
        Assert.Equal(code.Keys.Order(StringComparer.Ordinal), readme.Select(r => r.Key).Order(StringComparer.Ordinal));
        Assert.Empty(readme.Where(r => r.Default != code[r.Key]).Select(r => $"{r.Key}: README says {r.Default}, the code {code[r.Key]}"));
    }

    /// <summary>Each setting of each section the service binds, with its default as the table writes it.</summary>
    internal static async Task<Dictionary<string, string>> SettingsAsync()
    {
        await using var app = new TestApp();
        var sections = app.Services.GetServices<BoundSection>().ToList();
        var paths = sections.Select(s => s.Section.Path).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return sections.SelectMany(s => s.Defaults(paths)).ToDictionary(d => d.Key, d => Written(d.Default));
    }

    private static string Written(object? value) => value switch
    {
        null or "" => "empty",
        IEnumerable list and not string => list.Cast<object>().Any() ? string.Join(", ", list.Cast<object>().Select(Written)) : "none",
        bool b => $"`{(b ? "true" : "false")}`",
        TimeSpan t => $"`{t.ToString("c", CultureInfo.InvariantCulture)}`",
        IFormattable f => $"`{f.ToString(null, CultureInfo.InvariantCulture)}`",
        _ => $"`{value}`",
    };

    private static List<(string Key, string Default)> ReadmeRows()
    {
        var text = File.ReadAllText(Path.Combine(BuiltService.RepositoryRoot, "README.md"));
        var table = text[text.IndexOf("| Key (env: `WebhookReceiver__...`", StringComparison.Ordinal)..];
        return table.Split('\n').Skip(2).TakeWhile(l => l.StartsWith('|'))
            .Select(l => Row().Match(l)).Select(m => (m.Groups["key"].Value, m.Groups["default"].Value.Trim())).ToList();
    }

    [GeneratedRegex(@"^\| `(?<key>[^`]+)` \| (?<default>[^|]+) \|")]
    private static partial Regex Row();
}
