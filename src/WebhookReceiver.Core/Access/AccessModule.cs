using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Access;

/// <summary>Who may do what: operators, roles as policies, and the gate every command passes.</summary>
internal static class AccessModule
{
    internal static IServiceCollection AddAccess(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSection<AccessOptions, AccessOptionsAnnotations>(configuration, AccessOptions.Section);
        // Filled by whoever composes the receiver (AddWebhookReceiver: from WebhookReceiver:Operators and :AdminKeys).
        services.AddOptions<OperatorKeyOptions>().ValidateOnStart();
        services.AddValidator<OperatorKeyOptions, OperatorsValidator>();
        services.AddReceiverAccess();
        services.TryAddScoped<PayloadVisibility>();
        return services;
    }
}
