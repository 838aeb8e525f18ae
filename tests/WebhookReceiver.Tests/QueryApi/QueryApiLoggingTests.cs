using System.Net;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.QueryApi;

/// <summary>A client's mistake on the query API is the client's: the built service logs no warning, error or stack trace for it.</summary>
[Trait("Category", "System")]
public sealed class QueryApiLoggingTests
{
    [Theory]
    [InlineData("Production")]
    [InlineData("Development")]
    public async Task Bad_parameters_are_logged_at_most_at_Information_without_a_stack_trace(string environment)
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["ASPNETCORE_ENVIRONMENT"] = environment;
        settings["Serilog__MinimumLevel__Default"] = "Verbose";
        settings["Serilog__MinimumLevel__Override__Microsoft.AspNetCore"] = "Verbose";
        await using var service = await ServiceProcess.StartAsync(settings);
        using var admin = service.CreateClient(admin: true);
        using var anonymous = service.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/webhooks")).StatusCode);
        var before = service.Output.Count;

        foreach (var url in new[] { "/api/webhooks?limit=abc", "/api/webhooks?received_from=yesterday&cursor=x", "/api/webhooks?nope=1", "/api/webhooks/abc" })
        {
            Assert.Equal(url.Contains('?', StringComparison.Ordinal) ? HttpStatusCode.BadRequest : HttpStatusCode.NotFound, (await admin.GetAsync(url)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(url)).StatusCode);
        }

        await service.TerminateAsync(TimeSpan.FromSeconds(30));
        var lines = service.Output.Skip(before).ToList();
        Assert.Contains(lines, l => l.Contains("/api/webhooks", StringComparison.Ordinal)); // the requests were logged, verbosely
        foreach (var sign in new[] { "[WRN]", "[ERR]", "[FTL]", "\"@l\":\"Warning\"", "\"@l\":\"Error\"", "\"@l\":\"Fatal\"", "\"@x\"", "   at ", "Exception" })
        {
            Assert.DoesNotContain(lines, l => l.Contains(sign, StringComparison.Ordinal));
        }
    }
}
