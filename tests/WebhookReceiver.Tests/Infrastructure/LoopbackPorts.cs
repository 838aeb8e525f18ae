using System.Net;
using System.Net.Sockets;

namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>Ports on 127.0.0.1 for servers a test starts itself (a LangGraph dev server, PostgreSQL, a receiver that must know its URL first).</summary>
internal static class LoopbackPorts
{
    /// <summary>A port the OS just handed out and released: free now, almost surely still free when the server binds it.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Whether a server's failure to start says its port was in use (Node's EADDRINUSE, .NET's and PostgreSQL's wording).</summary>
    public static bool WasTaken(string failure) =>
        failure.Contains("EADDRINUSE", StringComparison.Ordinal) || failure.Contains("address already in use", StringComparison.OrdinalIgnoreCase);
}
