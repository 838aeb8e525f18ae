using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace WebhookReceiver.Webhooks;

/// <summary>Returned by <c>AddWebhookReceiver</c>: registers the handlers that act on stored webhooks.</summary>
public sealed class WebhookReceiverBuilder(IServiceCollection services)
{
    public IServiceCollection Services { get; } = services;

    // Two overloads with an optional filter read best at the call site; nothing is shipped yet, so no binary break to fear.
#pragma warning disable RS0026
    /// <summary>Registers <typeparamref name="THandler"/> (scoped) under a unique <paramref name="name"/>, for the runs <paramref name="filter"/> accepts.</summary>
    /// <example><c>.AddHandler&lt;OrderUpdater&gt;("orders", h =&gt; h.OnStatus("success").ForGraph("agent"))</c></example>
    public WebhookReceiverBuilder AddHandler<THandler>(string name, Action<HandlerFilter>? filter = null)
        where THandler : class, IWebhookHandler
    {
        Services.TryAddScoped<THandler>();
        return AddHandler(name, sp => sp.GetRequiredService<THandler>(), filter);
    }

    /// <summary>Registers a handler that <paramref name="factory"/> builds in each attempt's scope.</summary>
    public WebhookReceiverBuilder AddHandler<THandler>(string name, Func<IServiceProvider, THandler> factory, Action<HandlerFilter>? filter = null)
        where THandler : class, IWebhookHandler
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var accepted = new HandlerFilter();
        filter?.Invoke(accepted);
        Services.AddSingleton(new HandlerRegistration(name, typeof(THandler), accepted, factory));
        return this;
    }

    /// <summary>
    /// Registers <typeparamref name="THandler"/> (scoped) under a unique <paramref name="name"/> for the pauses of the threads
    /// <paramref name="filter"/> accepts: only <see cref="HandlerFilter.ForGraph"/> and <see cref="HandlerFilter.ForAssistant"/>
    /// apply to pauses. Called once per pause found (needs a LangGraph deployment configured: <c>WebhookReceiver:LangGraph</c>).
    /// </summary>
    /// <example><c>.AddInterruptHandler&lt;AskInSlack&gt;("slack", f =&gt; f.ForGraph("approvals"))</c></example>
    public WebhookReceiverBuilder AddInterruptHandler<THandler>(string name, Action<HandlerFilter>? filter = null)
        where THandler : class, IInterruptHandler
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Services.TryAddScoped<THandler>();
        var accepted = new HandlerFilter();
        filter?.Invoke(accepted);
        Services.AddSingleton(new InterruptHandlerRegistration(name, typeof(THandler), accepted, sp => sp.GetRequiredService<THandler>()));
        return this;
    }
#pragma warning restore RS0026
}
