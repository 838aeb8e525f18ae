using Microsoft.Extensions.DependencyInjection;

namespace WebhookReceiver.Handlers;

/// <summary>Returned by <c>AddWebhookReceiver</c>: registers the handlers that act on stored webhooks.</summary>
public sealed class WebhookReceiverBuilder(IServiceCollection services)
{
    public IServiceCollection Services { get; } = services;

    /// <summary>Registers <typeparamref name="THandler"/> under a unique <paramref name="name"/>, for the runs <paramref name="filter"/> accepts.</summary>
    /// <example><c>.AddHandler&lt;OrderUpdater&gt;("orders", h =&gt; h.OnStatus("success").ForGraph("agent"))</c></example>
    public WebhookReceiverBuilder AddHandler<THandler>(string name, Action<HandlerFilter>? filter = null)
        where THandler : class, IWebhookHandler
    {
        Services.AddKeyedScoped<IWebhookHandler, THandler>(name);
        return Register(name, typeof(THandler), filter);
    }

    /// <summary>Registers a handler built by <paramref name="factory"/> in each attempt's scope.</summary>
    public WebhookReceiverBuilder AddHandler<THandler>(string name, Func<IServiceProvider, THandler> factory, Action<HandlerFilter>? filter = null)
        where THandler : class, IWebhookHandler
    {
        Services.AddKeyedScoped<IWebhookHandler>(name, (sp, _) => factory(sp));
        return Register(name, typeof(THandler), filter);
    }

    private WebhookReceiverBuilder Register(string name, Type type, Action<HandlerFilter>? configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var filter = new HandlerFilter();
        configure?.Invoke(filter);
        Services.AddSingleton(new HandlerRegistration(name, type, filter));
        return this;
    }
}
