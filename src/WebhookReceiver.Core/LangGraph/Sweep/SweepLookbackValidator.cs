using Microsoft.Extensions.Options;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.LangGraph;

/// <summary>
/// <c>LangGraph:Sweep:Lookback</c> must stay under <c>Retention:MaxAge</c> while retention runs: the sweep recognises a run
/// as held by its stored webhook, so a run whose webhook retention purged would be stored and handled a second time.
/// </summary>
internal sealed class SweepLookbackValidator(IOptions<RetentionOptions> retention) : IValidateOptions<LangGraphOptions>
{
    public ValidateOptionsResult Validate(string? name, LangGraphOptions options) =>
        options.Enabled && retention.Value.Enabled && options.Sweep.Lookback >= retention.Value.MaxAge
            ? ValidateOptionsResult.Fail($"{LangGraphOptions.Section}:Sweep:Lookback ({options.Sweep.Lookback}) must be shorter than " +
                $"{RetentionOptions.Section}:MaxAge ({retention.Value.MaxAge}): the sweep would bring back runs whose webhooks retention purged, and handle them again.")
            : ValidateOptionsResult.Success;
}
