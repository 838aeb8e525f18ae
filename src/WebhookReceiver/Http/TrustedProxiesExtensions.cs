using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Http;

/// <summary>
/// Client addresses (for the per-client rate limit) taken from X-Forwarded-For only when the request comes from a proxy
/// named in <c>WebhookReceiver:Limits:KnownProxies</c> or <c>KnownNetworks</c>.
/// </summary>
internal static class TrustedProxiesExtensions
{
    public static IServiceCollection AddTrustedProxies(this IServiceCollection services)
    {
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<AbuseLimitOptions>>((forwarded, options) =>
        {
            var limits = options.Value;
            // Not even loopback by default: only the proxies named in configuration. With none named, the headers are
            // not read at all (the middleware trusts every sender when its lists are empty).
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
#pragma warning disable ASPDEPR005 // The obsolete list still holds 127.0.0.0/8 by default and is still consulted.
            forwarded.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
            forwarded.ForwardedHeaders = limits.KnownProxies.Count + limits.KnownNetworks.Count == 0
                ? ForwardedHeaders.None
                : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            foreach (var proxy in limits.KnownProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }

            foreach (var network in limits.KnownNetworks)
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });
        return services;
    }

    public static IApplicationBuilder UseTrustedProxies(this IApplicationBuilder app) => app.UseForwardedHeaders();
}
