using OrderUpdates;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddSingleton<OrderBook>();
builder.Services.AddWebhookReceiver(builder.Configuration)
    .AddHandler<OrderStatusUpdater>("orders", runs => runs.OnStatus("success", "error").ForGraph("agent"));

var app = builder.Build();
app.UseWebhookReceiver();
app.MapWebhookReceiver();
app.MapGet("/orders/{orderId}", (string orderId, OrderBook orders) =>
    orders.Find(orderId) is { } order ? Results.Ok(order) : Results.NotFound());

app.Run();
