/// <summary>
/// <c>dotnet WebhookReceiver.dll --healthcheck [url]</c>: the container's HEALTHCHECK. The ASP.NET runtime image has no curl
/// or wget, so the service's own assembly asks its own readiness endpoint, without building a host or reading settings.
/// </summary>
internal static class HealthProbe
{
    public const string Argument = "--healthcheck";

    public static bool IsRequested(string[] args) => args.Length > 0 && args[0] == Argument;

    /// <summary>0 when <c>/health/ready</c> answers 2xx on the first port of ASPNETCORE_HTTP_PORTS (8080 if unset), 1 otherwise.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var url = args.Length > 1 ? args[1] : $"http://127.0.0.1:{FirstHttpPort()}/health/ready";
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await client.GetAsync(new Uri(url));
            Console.WriteLine($"{url}: {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            Console.WriteLine($"{url}: {ex.Message}");
            return 1;
        }
    }

    private static string FirstHttpPort() =>
        (Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS") ?? "")
            .Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault() ?? "8080";
}
