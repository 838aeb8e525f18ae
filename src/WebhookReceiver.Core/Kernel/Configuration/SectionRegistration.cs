using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Kernel;

/// <summary>How every module binds its settings: one section, checked when the host starts.</summary>
internal static class SectionRegistration
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
        return services.AddValidator<TOptions, TAnnotations>();
    }

    internal static IServiceCollection AddValidator<TOptions, TValidator>(this IServiceCollection services)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        return services;
    }
}
