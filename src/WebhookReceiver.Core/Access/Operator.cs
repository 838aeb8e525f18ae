namespace WebhookReceiver.Access;

/// <summary>A person (or script) known by a configured key: the name the audit trail shows, and one of <see cref="ReceiverRoles"/>.</summary>
internal sealed record Operator(string Name, string Role);
