using WebhookReceiver.Runs;

namespace WebhookReceiver.Handlers;

/// <summary>A registered handler: its unique name, what it is, and which runs it wants.</summary>
public sealed record HandlerRegistration(string Name, Type HandlerType, HandlerFilter Filter);

/// <summary>Every registered handler; built once at start-up, where a repeated name stops the host.</summary>
public sealed class HandlerCatalog
{
    public HandlerCatalog(IEnumerable<HandlerRegistration> registrations)
    {
        Handlers = registrations.ToList();
        if (Handlers.GroupBy(h => h.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new InvalidOperationException(
                $"Two webhook handlers are registered under the name '{twice.Key}'. Give each AddHandler call its own name.");
        }
    }

    public IReadOnlyList<HandlerRegistration> Handlers { get; }

    public bool Contains(string name) => Handlers.Any(h => h.Name == name);

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
}
