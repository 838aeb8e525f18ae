using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Conventions;

/// <summary>src/WebhookReceiver/WebhookReceiver.http has a request for every endpoint the service maps.</summary>
public sealed class HttpFileTests
{
    [Fact]
    public async Task The_http_file_has_a_request_for_every_endpoint_of_the_service()
    {
        await using var app = new TestApp();
        _ = app.CreateClient();
        var requests = File.ReadAllLines(Path.Combine(BuiltService.RepositoryRoot, "src", "WebhookReceiver", "WebhookReceiver.http"))
            .Where(l => Regex.IsMatch(l, "^(GET|POST|PUT|PATCH|DELETE) "))
            .ToList();

        // Endpoints left out of the API description (the query API's catch-all 404s) are not requests anyone writes.
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .ToList();
        Assert.NotEmpty(endpoints);
        foreach (var endpoint in endpoints)
        {
            var methods = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            // A route parameter matches any value in the file: /api/webhooks/{id:long} is /api/webhooks/1 there.
            var path = Regex.Replace(Regex.Escape("/" + endpoint.RoutePattern.RawText!.TrimStart('/')), @"\\\{[^}]*}", "[^/?\\s]+");
            foreach (var method in methods.Where(m => m != "HEAD" && m != "OPTIONS"))
            {
                Assert.True(requests.Any(r => Regex.IsMatch(r, $"^{method} \\{{\\{{host}}}}{path}(\\?|$)")),
                    $"WebhookReceiver.http has no request for {method} {endpoint.RoutePattern.RawText}");
            }
        }
    }
}
