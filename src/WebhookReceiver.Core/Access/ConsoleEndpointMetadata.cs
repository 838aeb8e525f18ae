namespace WebhookReceiver.Access;

/// <summary>
/// Endpoint metadata marking a console endpoint: there <see cref="ReceiverAuthentication.Scheme"/> reads the sign-in cookie,
/// not the <c>X-Api-Key</c> header. The console's route group adds it (<c>.WithMetadata(new ConsoleEndpointMetadata())</c>).
/// </summary>
internal sealed class ConsoleEndpointMetadata;
