using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Kernel;

/// <summary>How every module binds its settings: one section, checked when the host starts.</summary>
internal static partial class SectionRegistration
{
    // One section bound to its options and checked when the host starts: a value the binder cannot convert is one line naming
    // the key (not the binder's stack trace), then its data annotations; the start-up report warns of keys nothing binds.
    internal static IServiceCollection AddSection<TOptions, TAnnotations>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
        where TAnnotations : class, IValidateOptions<TOptions>
    {
        var bound = new BoundSection(configuration.GetSection(section), typeof(TOptions));
        services.AddSingleton(bound);
        services.AddOptions<TOptions>()
            .Configure(_ =>
            {
                if (bound.BadValues().ToList() is { Count: > 0 } bad)
                {
                    throw new OptionsValidationException(section, typeof(TOptions), bad);
                }
            })
            .Bind(bound.Section)
            .ValidateOnStart();
        services.TryAddSingleton<TAnnotations>();
        return services.AddValidator<TOptions, SettingNames<TOptions, TAnnotations>>();
    }

    internal static IServiceCollection AddValidator<TOptions, TValidator>(this IServiceCollection services)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        return services;
    }

    /// <summary>
    /// The data annotations' failures as a person reads them: <c>DispatchOptions.AttemptTimeout must be between
    /// 00:00:00.0010000 and 1.00:00:00</c> becomes <c>WebhookReceiver:Dispatch:AttemptTimeout (env
    /// WebhookReceiver__Dispatch__AttemptTimeout) must be between 1 ms and 1 day</c>. Messages a property writes itself are kept.
    /// </summary>
    private sealed class SettingNames<TOptions, TAnnotations>(TAnnotations annotations, IEnumerable<BoundSection> sections) : IValidateOptions<TOptions>
        where TOptions : class
        where TAnnotations : class, IValidateOptions<TOptions>
    {
        private readonly string _section = sections.First(s => s.OptionsType == typeof(TOptions)).Section.Path;

        public ValidateOptionsResult Validate(string? name, TOptions options)
        {
            var result = annotations.Validate(name, options);
            return result.Failed ? ValidateOptionsResult.Fail(result.Failures.Select(Rewrite)) : result;
        }

        // The generated validators write "Member: The field TypeName.Member must be ...".
        private string Rewrite(string failure)
        {
            if (Annotation().Match(failure) is not { Success: true } match || match.Groups["type"].Value != typeof(TOptions).Name)
            {
                return failure;
            }

            var key = _section + ":" + Index().Replace(match.Groups["member"].Value, ":$1").Replace('.', ':');
            var rest = TimeSpanText().Replace(match.Groups["rest"].Value, m => Human(TimeSpan.Parse(m.Value, CultureInfo.InvariantCulture)));
            return $"{key} (env {BoundSection.EnvironmentName(key)}) {rest}";
        }

        private static string Human(TimeSpan span) => span switch
        {
            { Ticks: 0 } => "0",
            _ when span.Ticks % TimeSpan.TicksPerDay == 0 => Unit(span.TotalDays, "day"),
            _ when span.Ticks % TimeSpan.TicksPerHour == 0 => Unit(span.TotalHours, "hour"),
            _ when span.Ticks % TimeSpan.TicksPerMinute == 0 => Unit(span.TotalMinutes, "minute"),
            _ when span.Ticks % TimeSpan.TicksPerSecond == 0 => Unit(span.TotalSeconds, "second"),
            _ when span.Ticks % TimeSpan.TicksPerMillisecond == 0 => $"{span.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms",
            _ => span.ToString("c", CultureInfo.InvariantCulture),
        };

        private static string Unit(double count, string unit) => $"{count.ToString(CultureInfo.InvariantCulture)} {unit}{(count == 1 ? "" : "s")}";
    }

    [GeneratedRegex(@"^[\w.\[\]]+: The field (?<type>\w+)\.(?<member>[\w.\[\]]+) (?<rest>.*)$")]
    private static partial Regex Annotation();

    [GeneratedRegex(@"\[(\d+)\]")]
    private static partial Regex Index();

    [GeneratedRegex(@"\b(\d+\.)?\d{2}:\d{2}:\d{2}(\.\d{1,7})?\b")]
    private static partial Regex TimeSpanText();
}
