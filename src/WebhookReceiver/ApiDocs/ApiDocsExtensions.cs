using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.ApiDocs;

/// <summary>
/// Settings of the service's API documentation: <c>WebhookReceiver:OpenApi</c> and <c>WebhookReceiver:SwaggerUi</c>.
/// Both are on and public by default; either can be switched off or put behind the admin key.
/// </summary>
internal sealed class ApiDocsOptions
{
    /// <summary>Serves the OpenAPI document at <see cref="ApiDocsExtensions.DocumentPath"/>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Requests need an admin key (<c>X-Api-Key</c>), as the query API does.</summary>
    public bool RequireAdminKey { get; set; }
}

/// <summary>The receiver's named OpenAPI document, and Swagger UI at <c>/swagger</c> reading it.</summary>
internal static class ApiDocsExtensions
{
    public const string DocumentPath = $"/openapi/{WebhookReceiverOpenApiExtensions.DocumentName}.json";
    public const string SwaggerUiPath = "/swagger";

    public static IServiceCollection AddApiDocs(this IServiceCollection services, IConfiguration configuration)
    {
        foreach (var name in (string[])["OpenApi", "SwaggerUi"])
        {
            var section = configuration.GetSection($"{WebhookReceiverOptions.Section}:{name}");
            services.AddOptions<ApiDocsOptions>(name).Bind(section);
            // Under the receiver's section: the start-up report knows these keys as bound, and warns of misspellings in them.
            services.AddSingleton(new BoundSection(section, typeof(ApiDocsOptions)));
        }

        return services.AddWebhookReceiverOpenApi();
    }

    /// <summary>Maps the document and Swagger UI as configured; Swagger UI without its document would be an empty page, so it is off when the document is.</summary>
    public static WebApplication MapApiDocs(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<ApiDocsOptions>>();
        var document = settings.Get("OpenApi");
        var swaggerUi = settings.Get("SwaggerUi");
        if (!document.Enabled)
        {
            return app;
        }

        if (document.RequireAdminKey)
        {
            app.UseWhen(context => context.Request.Path.StartsWithSegments("/openapi"), branch => branch.UseWebhookReceiverAdminKey());
        }

        app.MapOpenApi();
        if (swaggerUi.Enabled)
        {
            if (swaggerUi.RequireAdminKey)
            {
                app.UseWhen(context => context.Request.Path.StartsWithSegments(SwaggerUiPath), branch => branch.UseWebhookReceiverAdminKey());
            }

            app.UseSwaggerUI(swagger =>
            {
                swagger.RoutePrefix = SwaggerUiPath.TrimStart('/');
                swagger.SwaggerEndpoint(DocumentPath, "WebhookReceiver");
                swagger.DocumentTitle = "WebhookReceiver";
            });
        }

        return app;
    }
}
