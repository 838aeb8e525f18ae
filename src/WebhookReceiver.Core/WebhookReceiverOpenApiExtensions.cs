using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using WebhookReceiver.Access;
using WebhookReceiver.Webhooks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The receiver's own named OpenAPI document, <see cref="DocumentName"/> (served by the host's <c>MapOpenApi()</c> at
/// <c>/openapi/webhook-receiver.json</c>): the receiver's endpoints only, the admin key as "Authorize", and an example
/// webhook. The host's own documents (such as <c>v1</c>) do not list the receiver's endpoints.
/// </summary>
public static class WebhookReceiverOpenApiExtensions
{
    /// <summary>The document's name, and the OpenAPI group name of every receiver endpoint.</summary>
    public const string DocumentName = "webhook-receiver";

    /// <summary>What a LangGraph server sends when a run finishes (JS server shape; Python sends the same fields).</summary>
    public const string ExampleWebhook = """
        {
          "run_id": "1ef8e7a2-3c4d-6e5f-8a9b-0c1d2e3f4a5b",
          "thread_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
          "assistant_id": "fe096781-5601-53d2-b2f6-0d3403f7e9ca",
          "status": "success",
          "metadata": { "graph_id": "agent", "created_by": "system", "order_id": "A-1001" },
          "kwargs": { "input": { "messages": [{ "type": "human", "content": "Where is my order?" }] }, "webhook": "https://host/webhooks/langgraph?token=..." },
          "multitask_strategy": "reject",
          "created_at": "2025-06-01T10:00:00.000Z",
          "updated_at": "2025-06-01T10:00:02.000Z",
          "run_started_at": "2025-06-01T10:00:00.100Z",
          "run_ended_at": "2025-06-01T10:00:01.900Z",
          "webhook_sent_at": "2025-06-01T10:00:02.000Z",
          "values": { "messages": [{ "type": "human", "content": "Where is my order?" }, { "type": "ai", "content": "It ships today." }] }
        }
        """;

    public static IServiceCollection AddWebhookReceiverOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.ShouldInclude = description => description.GroupName == DocumentName;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "WebhookReceiver";
                document.Info.Description =
                    "Receives the webhooks a LangGraph server sends when a run finishes, stores each one durably and hands it to handlers. " +
                    "The query API under /api needs an operator's key: press Authorize and enter it. Reads need the role viewer, resuming an " +
                    "interrupt reviewer, replay, sweep and the audit trail operator; a role too low is answered 403.";
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[QueryApiEndpoints.AdminKeyScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = ApiKeyAuthenticationHandler.Header,
                    Description = "An operator's key (WebhookReceiver:Operators, or an admin key of WebhookReceiver:AdminKeys); separate from the webhook tokens.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<AdminKeyRequired>().Any())
                {
                    operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(QueryApiEndpoints.AdminKeyScheme, context.Document)] = [] }];
                }

                if (operation.OperationId == "ReceiveWebhook")
                {
                    operation.Parameters ??= [];
                    operation.Parameters.Add(new OpenApiParameter
                    {
                        Name = WebhookTokens.QueryParameter,
                        In = ParameterLocation.Query,
                        Description = "The webhook token, as in `webhook=\"https://host/webhooks/langgraph?token=...\"`. Or send it in the token header.",
                        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                    });
                    // The body is read whatever its Content-Type, so it is described here rather than bound by the endpoint.
                    var body = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.Object }, Example = JsonNode.Parse(ExampleWebhook) };
                    operation.RequestBody = new OpenApiRequestBody
                    {
                        Required = true,
                        Description = "The run record LangGraph sends, as a JSON object; every field is optional (run_id is the dedup key: without it, identical bytes are). Any Content-Type: the JS server sends text/plain.",
                        Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = body, ["text/plain"] = body },
                    };
                }

                return Task.CompletedTask;
            });
        });
}
