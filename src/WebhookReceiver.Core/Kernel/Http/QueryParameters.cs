using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace WebhookReceiver.Kernel;

/// <summary>
/// The one reader of list parameters, for the query API and the console alike: bound as text (an <c>[AsParameters]</c> filter
/// such as the webhooks' filter) and parsed here, so that a bad value is an error naming it (a 400 in the API, a line on
/// the console's page); a parameter an API endpoint does not read is refused (a misspelt filter would otherwise return
/// everything); the OpenAPI document says what each holds.
/// </summary>
internal static class QueryParameters
{
    /// <summary>
    /// A list's paging, as every list of the API takes it: <c>cursor</c> (the <c>next_cursor</c> of the previous page) and
    /// <c>limit</c> (1-500, default 50); a bad value is an error named by its parameter.
    /// </summary>
    public static (long? Before, int Limit) Paging(string? cursor, string? limit, Dictionary<string, string[]> errors)
    {
        var before = ParseOrNull<long>(cursor, "cursor", "The next_cursor of the previous page.", errors);
        var size = ParseOrNull<int>(limit, "limit", "A whole number between 1 and 500.", errors) ?? 50;
        if (size is < 1 or > 500)
        {
            errors["limit"] = ["Between 1 and 500."];
        }

        return (before, size);
    }

    /// <summary>A value as a filter reads it: trimmed; absent when blank (an empty field of the console's filter form).</summary>
    public static string? Text(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary><paramref name="value"/> when it is one of <paramref name="allowed"/> (or absent); otherwise an error under <paramref name="name"/>.</summary>
    public static string? OneOf(string? value, string name, IReadOnlyCollection<string> allowed, Dictionary<string, string[]> errors)
    {
        value = Text(value);
        if (value is null || allowed.Contains(value))
        {
            return value;
        }

        errors[name] = [$"One of: {string.Join(", ", allowed)}."];
        return null;
    }

    /// <summary><paramref name="value"/> when an index can match it (<see cref="IndexableText"/>); otherwise an error under <paramref name="name"/>.</summary>
    public static string? Indexable(string? value, string name, Dictionary<string, string[]> errors)
    {
        value = Text(value);
        if (value is null || IndexableText.CanMatch(value))
        {
            return value;
        }

        errors[name] = [$"At most {IndexableText.MaxLength} characters, with no NUL."];
        return null;
    }

    /// <summary>An ISO 8601 time (UTC when it names no offset); anything else is an error under <paramref name="name"/>.</summary>
    public static DateTimeOffset? Time(string? value, string name, Dictionary<string, string[]> errors)
    {
        value = Text(value);
        if (value is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }

        errors[name] = ["An ISO 8601 date and time, such as 2026-01-31T12:00:00Z."];
        return null;
    }

    /// <summary>
    /// Query values are bound as text and parsed here, so a value that does not parse is a 400 problem naming the parameter
    /// as the API spells it, in every environment, instead of a framework binding failure (a bare 400, or an exception).
    /// </summary>
    public static T? ParseOrNull<T>(string? value, string name, string expected, Dictionary<string, string[]> errors)
        where T : struct, ISpanParsable<T>
    {
        if (value is null)
        {
            return null;
        }

        if (T.TryParse(value, CultureInfo.InvariantCulture, out var parsed))
        {
            return parsed;
        }

        errors[name] = [expected];
        return null;
    }

    // A misspelt filter would otherwise be ignored and return everything: every query parameter must be one the endpoint reads.
    public static EndpointFilterDelegate RefuseUnknown(EndpointFilterFactoryContext context, EndpointFilterDelegate next)
    {
        var known = context.MethodInfo.GetParameters()
            .SelectMany(p => p.GetCustomAttribute<AsParametersAttribute>() is null
                ? [p.GetCustomAttribute<FromQueryAttribute>()?.Name]
                : p.ParameterType.GetProperties().Select(property => property.GetCustomAttribute<FromQueryAttribute>()?.Name))
            .OfType<string>()
            .ToHashSet(StringComparer.OrdinalIgnoreCase); // as the framework binds them
        return invocation =>
        {
            var unknown = invocation.HttpContext.Request.Query.Keys.Where(k => !known.Contains(k)).ToList();
            return unknown.Count == 0
                ? next(invocation)
                : ValueTask.FromResult<object?>(TypedResults.ValidationProblem(unknown.ToDictionary(
                    k => k,
                    _ => new[] { known.Count == 0 ? "This endpoint takes no query parameters." : $"Not a parameter of this endpoint; it reads: {string.Join(", ", known.Order())}." })));
        };
    }
}
