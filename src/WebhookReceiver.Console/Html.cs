using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;

namespace WebhookReceiver.Console;

/// <summary>
/// A piece of HTML that is safe to write as it is. Built with <see cref="Html.Of"/> from an interpolated string whose holes
/// are encoded by <see cref="HtmlEncoder"/> unless they are <see cref="Html"/> themselves: <c>Html.Of($"&lt;td&gt;{run.Status}&lt;/td&gt;")</c>.
/// So a value from a payload, a filter or a handler's error can never become markup.
/// </summary>
internal readonly record struct Html(string Value)
{
    public static readonly Html Empty = new(string.Empty);

    public static Html Of([InterpolatedStringHandlerArgument] ref HtmlBuilder html) => html.Build();

    /// <summary>Markup written by this code only, never a value from outside.</summary>
    public static Html Raw(string markup) => new(markup);

    public static Html Join(IEnumerable<Html> parts) => new(string.Concat(parts.Select(p => p.Value)));

    /// <summary><paramref name="html"/> when <paramref name="condition"/> holds. The argument is built either way: when it
    /// reads what the condition guards (a null), pass a lambda to the other overload.</summary>
    public static Html When(bool condition, Html html) => condition ? html : Empty;

    /// <summary><paramref name="html"/>, built only when <paramref name="condition"/> holds.</summary>
    public static Html When(bool condition, Func<Html> html) => condition ? html() : Empty;

    public override string ToString() => Value ?? string.Empty;
}

/// <summary>The interpolated-string handler of <see cref="Html.Of"/>: literals as written, holes encoded.</summary>
[InterpolatedStringHandler]
internal ref struct HtmlBuilder
{
    private readonly StringBuilder _builder;

    public HtmlBuilder(int literalLength, int formattedCount) => _builder = new StringBuilder(literalLength + (formattedCount * 16));

    public readonly void AppendLiteral(string literal) => _builder.Append(literal);

    public readonly void AppendFormatted(Html html) => _builder.Append(html.Value);

    public readonly void AppendFormatted<T>(T value) => _builder.Append(HtmlEncoder.Default.Encode(value switch
    {
        null => string.Empty,
        DateTimeOffset time => ConsoleText.Time(time),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    }));

    public readonly void AppendFormatted<T>(T value, string format) where T : IFormattable =>
        _builder.Append(HtmlEncoder.Default.Encode(value.ToString(format, CultureInfo.InvariantCulture)));

    internal readonly Html Build() => new(_builder.ToString());
}

/// <summary>How the console writes values, in markup built by <see cref="Html.Of"/> and in components alike.</summary>
internal static class ConsoleText
{
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>The errors of a list's filters (as <see cref="Kernel.QueryParameters"/> names them), one line each: <c>parameter: what it must be</c>.</summary>
    public static IReadOnlyList<string> ErrorLines(Dictionary<string, string[]> errors) =>
        errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}").ToList();
}
