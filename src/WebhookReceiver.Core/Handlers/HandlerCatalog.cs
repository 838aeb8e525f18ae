using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WebhookReceiver.Runs;

namespace WebhookReceiver.Handlers;

/// <summary>A registered handler: its unique name, what it is, which runs it wants, and how an attempt's scope builds it.</summary>
internal sealed record HandlerRegistration(string Name, Type HandlerType, HandlerFilter Filter, Func<IServiceProvider, IWebhookHandler> Create);

/// <summary>
/// Every handler: the built-in ones switched on in configuration, then those registered in code.
/// Built once at start-up, where a repeated name stops the host.
/// </summary>
internal sealed class HandlerCatalog
{
    public HandlerCatalog(IEnumerable<HandlerRegistration> registrations, IOptions<BuiltInHandlerOptions> options)
    {
        Handlers = BuiltIn(options.Value).Concat(registrations).ToList();
        if (Handlers.GroupBy(h => h.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new InvalidOperationException(
                $"Two webhook handlers are registered under the name '{twice.Key}'. Give each handler (and forward target) its own name.");
        }
    }

    public IReadOnlyList<HandlerRegistration> Handlers { get; }

    public HandlerRegistration? Find(string name) => Handlers.FirstOrDefault(h => h.Name == name);

    public bool Contains(string name) => Find(name) is not null;

    /// <summary>Names of the handlers that want this run.</summary>
    public IReadOnlyList<string> Match(LangGraphRun run)
    {
        var names = new List<string>(Handlers.Count);
        foreach (var handler in Handlers)
        {
            if (handler.Filter.Matches(run))
            {
                names.Add(handler.Name);
            }
        }

        return names;
    }

    private static IEnumerable<HandlerRegistration> BuiltIn(BuiltInHandlerOptions options)
    {
        if (options.Log.Enabled)
        {
            yield return new HandlerRegistration(LogHandler.Name, typeof(LogHandler), new HandlerFilter(),
                sp => ActivatorUtilities.CreateInstance<LogHandler>(sp));
        }

        foreach (var target in options.Forward)
        {
            yield return new HandlerRegistration(target.Name, typeof(ForwardHandler),
                new HandlerFilter().OnStatus([.. target.Statuses]).ForGraph([.. target.Graphs]),
                sp => ActivatorUtilities.CreateInstance<ForwardHandler>(sp, target));
        }
    }
}
