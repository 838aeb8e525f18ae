using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace WebhookReceiver.Kernel;

/// <summary>
/// A configuration section and the options type the binder fills from it. Knows, from the type's properties as the binder
/// sees them (no list kept by hand), which keys under the section bind to nothing, and which values the binder cannot convert.
/// </summary>
internal sealed record BoundSection(IConfigurationSection Section, Type OptionsType)
{
    /// <summary>
    /// One line per key under this section that no property binds, with the key it probably meant where one is close; keys
    /// under <paramref name="otherSections"/> (paths bound by other options) are theirs.
    /// </summary>
    public IEnumerable<string> UnknownKeys(IReadOnlySet<string> otherSections)
    {
        var found = new List<string>();
        WalkObject(Section, OptionsType, otherSections, found);
        return found;
    }

    /// <summary>
    /// One line per value the binder would fail to convert (an enum name, a time span, a number, a boolean): the key, the value
    /// and what is accepted. Such a value would otherwise stop the start-up with the binder's stack trace.
    /// </summary>
    public IEnumerable<string> BadValues()
    {
        var found = new List<string>();
        WalkValues(Section, OptionsType, found);
        return found;
    }

    /// <summary>
    /// Every setting of this section with its C# default, keyed as an environment variable after <c>WebhookReceiver__</c>
    /// (<c>N</c> for a list index): the rows the README's settings table must hold. Keys under <paramref name="otherSections"/> are theirs.
    /// </summary>
    public IEnumerable<(string Key, object? Default)> Defaults(IReadOnlySet<string> otherSections)
    {
        var root = EnvironmentName(Section.Path);
        var prefix = root.Contains("__", StringComparison.Ordinal) ? root[(root.IndexOf("__", StringComparison.Ordinal) + 2)..] + "__" : "";
        return DefaultsOf(Activator.CreateInstance(OptionsType), OptionsType, prefix, Section.Path, otherSections);
    }

    private static IEnumerable<(string Key, object? Default)> DefaultsOf(object? instance, Type type, string prefix, string path, IReadOnlySet<string> otherSections)
    {
        foreach (var property in Bindable(type))
        {
            if (otherSections.Contains($"{path}:{property.Name}"))
            {
                continue;
            }

            var value = instance is null ? null : property.GetValue(instance);
            var key = prefix + property.Name;
            var element = ElementType(property.PropertyType);
            if (IsScalar(property.PropertyType) || (element is not null && IsScalar(element)))
            {
                yield return (element is null ? key : key + "__N", value);
            }
            else
            {
                var itemType = element ?? property.PropertyType;
                var item = element is null ? value : Activator.CreateInstance(itemType);
                foreach (var leaf in DefaultsOf(item, itemType, element is null ? key + "__" : key + "__N__", $"{path}:{property.Name}", otherSections))
                {
                    yield return leaf;
                }
            }
        }
    }

    /// <summary>The environment variable that sets <paramref name="path"/>.</summary>
    public static string EnvironmentName(string path) => path.Replace(":", "__", StringComparison.Ordinal);

    private static void WalkObject(IConfigurationSection section, Type type, IReadOnlySet<string> otherSections, List<string> found)
    {
        var properties = Bindable(type);
        foreach (var child in section.GetChildren())
        {
            if (otherSections.Contains(child.Path))
            {
                continue;
            }

            if (properties.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase)) is { } property)
            {
                WalkValue(child, property.PropertyType, otherSections, found);
                continue;
            }

            var known = properties.Select(p => p.Name)
                .Concat(otherSections.Where(s => s.StartsWith(section.Path + ":", StringComparison.OrdinalIgnoreCase) && s.Count(c => c == ':') == section.Path.Count(c => c == ':') + 1)
                    .Select(s => s[(section.Path.Length + 1)..]));
            var meant = known.Select(k => (Key: k, Distance: Distance(k, child.Key))).Where(k => k.Distance <= Math.Max(2, child.Key.Length / 3))
                .OrderBy(k => k.Distance).Select(k => k.Key).FirstOrDefault();
            found.Add($"{child.Path} (env {EnvironmentName(child.Path)}) binds to nothing and is ignored" +
                      (meant is null ? "." : $": did you mean {section.Path}:{meant}?"));
        }
    }

    private static void WalkValue(IConfigurationSection section, Type type, IReadOnlySet<string> otherSections, List<string> found)
    {
        if (IsScalar(type))
        {
            return;
        }

        if (ElementType(type) is { } element)
        {
            foreach (var item in section.GetChildren())
            {
                WalkValue(item, element, otherSections, found);
            }

            return;
        }

        WalkObject(section, type, otherSections, found);
    }

    private static void WalkValues(IConfigurationSection section, Type type, List<string> found)
    {
        if (IsScalar(type))
        {
            if (section.Value is { } value && !Converts(value, type))
            {
                found.Add($"{section.Path} (env {EnvironmentName(section.Path)}) is '{value}': {Accepted(type)}.");
            }

            return;
        }

        var element = ElementType(type);
        var properties = element is null ? Bindable(type) : [];
        foreach (var child in section.GetChildren())
        {
            var childType = element ?? properties.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase))?.PropertyType;
            if (childType is not null)
            {
                WalkValues(child, childType, found);
            }
        }
    }

    // As the binder converts: through the type's converter, in the invariant culture; an empty value leaves a nullable unset.
    private static bool Converts(string value, Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (type == typeof(string) || (underlying is not null && value.Length == 0))
        {
            return true;
        }

        try
        {
            TypeDescriptor.GetConverter(underlying ?? type).ConvertFromInvariantString(value);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or OverflowException)
        {
            return false;
        }
    }

    private static string Accepted(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsEnum ? $"use one of {string.Join(", ", Enum.GetNames(type))}"
            : type == typeof(TimeSpan) ? "use a time span written [d.]hh:mm:ss[.fff], such as 00:00:30 for 30 seconds or 1.00:00:00 for a day"
            : type == typeof(bool) ? "use true or false"
            : type == typeof(int) || type == typeof(long) ? "use a whole number"
            : type == typeof(double) || type == typeof(decimal) ? $"use a number such as {1.5.ToString(CultureInfo.InvariantCulture)}"
            : $"use a value of type {type.Name}";
    }

    private static PropertyInfo[] Bindable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && (p.SetMethod?.IsPublic == true || ElementType(p.PropertyType) is not null || !IsScalar(p.PropertyType)))
            .Where(p => p.GetMethod?.IsPublic == true)
            .ToArray();

    private static bool IsScalar(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
               || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Uri) || type == typeof(Guid);
    }

    // A list, an array or a dictionary: its children are items (indexes or keys) of this type.
    private static Type? ElementType(Type type)
    {
        if (type == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        var arguments = type.IsGenericType ? type.GetGenericArguments() : [];
        return arguments.Length switch { 1 => arguments[0], 2 => arguments[1], _ => typeof(string) };
    }

    // Levenshtein, case-insensitive: how far a misspelled key is from a real one.
    private static int Distance(string a, string b)
    {
        a = a.ToUpperInvariant();
        b = b.ToUpperInvariant();
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }

        return row[b.Length];
    }
}
