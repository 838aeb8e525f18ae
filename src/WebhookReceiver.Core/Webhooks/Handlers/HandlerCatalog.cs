using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Webhooks;

/// <summary>A registered handler: its unique name, what it is, which runs it wants, and how an attempt's scope builds it.</summary>
/// <param name="EnabledWhen">For the receiver's own handlers that a setting switches on: null means always registered.</param>
internal sealed record HandlerRegistration(string Name, Type HandlerType, HandlerFilter Filter, Func<IServiceProvider, IWebhookHandler> Create,
    Func<IServiceProvider, bool>? EnabledWhen = null);

/// <summary>A registered interrupt handler: its unique name, what it is, which pauses it wants (graph, assistant), and how it is built.</summary>
internal sealed record InterruptHandlerRegistration(string Name, Type HandlerType, HandlerFilter Filter, Func<IServiceProvider, IInterruptHandler> Create);

/// <summary>
/// Every handler: the built-in ones switched on in configuration, then those registered in code.
/// Built once at start-up, where a repeated name stops the host.
/// </summary>
internal sealed class HandlerCatalog
{
    public HandlerCatalog(IEnumerable<HandlerRegistration> registrations, IOptions<BuiltInHandlerOptions> options, IServiceProvider services,
        IEnumerable<InterruptHandlerRegistration>? interruptRegistrations = null)
    {
        Handlers = BuiltIn(options.Value)
            .Concat(registrations.Where(r => r.EnabledWhen?.Invoke(services) ?? true))
            .ToList();
        if (Handlers.GroupBy(h => h.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new InvalidOperationException(
                $"Two webhook handlers are registered under the name '{twice.Key}'. Give each handler (and forward target) its own name.");
        }

        InterruptHandlers = BuiltInInterruptHandlers(options.Value).Concat(interruptRegistrations ?? []).ToList();
        if (InterruptHandlers.GroupBy(h => h.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twiceForInterrupts)
        {
            throw new InvalidOperationException(
                $"Two interrupt handlers are registered under the name '{twiceForInterrupts.Key}'. Give each interrupt handler (and forward target) its own name.");
        }
    }

    public IReadOnlyList<HandlerRegistration> Handlers { get; }

    /// <summary>The handlers of interrupts: forward targets with <c>Events</c> interrupts or both, then those registered in code.</summary>
    public IReadOnlyList<InterruptHandlerRegistration> InterruptHandlers { get; }

    public HandlerRegistration? Find(string name) => Handlers.FirstOrDefault(h => h.Name == name);

    public InterruptHandlerRegistration? FindInterruptHandler(string name) => InterruptHandlers.FirstOrDefault(h => h.Name == name);

    /// <summary>Names of the interrupt handlers that want a pause of this graph and assistant.</summary>
    public IReadOnlyList<string> MatchInterrupt(string? assistantId, string? graphId) =>
        InterruptHandlers.Where(h => h.Filter.MatchesPause(assistantId, graphId)).Select(h => h.Name).ToList();

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

        foreach (var target in options.Forward.Where(t => t.Events is ForwardEvents.Runs or ForwardEvents.Both))
        {
            yield return new HandlerRegistration(target.Name, typeof(ForwardHandler),
                new HandlerFilter().OnStatus([.. target.Statuses]).ForGraph([.. target.Graphs]),
                sp => ActivatorUtilities.CreateInstance<ForwardHandler>(sp, target));
        }
    }

    private static IEnumerable<InterruptHandlerRegistration> BuiltInInterruptHandlers(BuiltInHandlerOptions options)
    {
        foreach (var target in options.Forward.Where(t => t.Events is ForwardEvents.Interrupts or ForwardEvents.Both))
        {
            yield return new InterruptHandlerRegistration(target.Name, typeof(ForwardHandler), new HandlerFilter().ForGraph([.. target.Graphs]),
                sp => ActivatorUtilities.CreateInstance<ForwardHandler>(sp, target));
        }
    }
}
