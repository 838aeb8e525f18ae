using Microsoft.Extensions.Options;
using Serilog;
using WebhookReceiver.ApiDocs;
using WebhookReceiver.Health;
using WebhookReceiver.Http;
using WebhookReceiver.Observability;

// The container's HEALTHCHECK runs the same assembly as a probe: see HealthProbe.
if (HealthProbe.IsRequested(args))
{
    return await HealthProbe.RunAsync(args);
}

// Start-up failures (a missing setting, a port in use) are written here; once the host runs, Serilog is configured from appsettings.json.
Log.Logger = new LoggerConfiguration().WriteTo.Console().CreateLogger();

try
{
    // The content root is the build output, where the repository's appsettings.json is copied: the same file is in effect
    // whether the service is started from the repository root, from its project folder or from a publish folder.
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

    builder.Services.AddScrubbedSerilog(builder.Configuration);
    builder.Services.AddHttpProblems();
    builder.Services.AddWebhookReceiver(builder.Configuration);
    builder.Services.AddWebhookReceiverConsole(builder.Configuration);
    builder.Services.AddMetricsExport(builder.Configuration);
    builder.Services.AddTracingExport(builder.Configuration);
    builder.Services.AddTrustedProxies();
    builder.Services.AddApiDocs(builder.Configuration);
    builder.Services.AddHostedService<DevelopmentSecretsWarning>();

    var app = builder.Build();
    // Every setting is checked before anything starts, so a bad one stops the start-up here, as one line naming it.
    app.Services.GetService<IStartupValidator>()?.Validate();
    RoutePaths.RefuseCollisions(app.Services);

    app.UseRequestLog();
    app.UseHttpProblems();
    app.UseTrustedProxies();
    app.UseWebhookReceiver();

    app.MapWebhookReceiver();
    app.MapWebhookReceiverConsole();
    app.MapHealth();
    app.MapMetricsScrape();
    app.MapApiDocs();

    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (BadSettings(ex) is { } reason)
{
    // The message names the setting and what to write instead: a stack trace would only bury it.
    Log.ForContext<Program>().Fatal("WebhookReceiver could not start: {Reason}", reason);
    return 1;
}
catch (Exception ex) when (ex is not HostAbortedException)
{
    Log.ForContext<Program>().Fatal(ex, "WebhookReceiver could not start: {Reason}", ex.Message);
    return 1;
}
finally
{
    await Log.CloseAndFlushAsync();
}

static string? BadSettings(Exception ex) => ex switch
{
    OptionsValidationException settings => settings.Message,
    AggregateException { InnerExceptions: var all } when all.All(e => e is OptionsValidationException) => string.Join(" ", all.Select(e => e.Message)),
    _ => null,
};

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
