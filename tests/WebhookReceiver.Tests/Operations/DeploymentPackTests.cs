using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Tests.LangGraphApi;
using WebhookReceiver.Tests.Sweep;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Operations;

/// <summary>
/// The production pack in deploy/: the Kubernetes manifests against the Kubernetes API's schemas (kubernetes-models, from
/// tests/deploy-manifests) and against the service itself (ports, probe routes, settings it binds, shutdown time, body
/// limit); the alert rules with the real promtool; and every metric the dashboard and the rules name, read from the
/// running service's scrape.
/// </summary>
public sealed partial class DeploymentPackTests
{
    private static readonly string Deploy = Path.Combine(BuiltService.RepositoryRoot, "deploy");
    private static readonly string Rules = Path.Combine(Deploy, "prometheus", "webhook-receiver.rules.yml");
    private static readonly string RuleTests = Path.Combine(Deploy, "prometheus", "webhook-receiver.rules.test.yml");
    private static readonly string Dashboard = Path.Combine(Deploy, "grafana", "webhook-receiver.json");

    // Every options type the service binds, by its section: a manifest's WebhookReceiver__ variable must be a property of one.
    private static readonly (string Section, Type Type)[] Sections =
    [
        (WebhookReceiverOptions.Section, typeof(WebhookReceiverOptions)), (StorageOptions.Section, typeof(StorageOptions)),
        (RetentionOptions.Section, typeof(RetentionOptions)), (IngestOptions.Section, typeof(IngestOptions)),
        (AbuseLimitOptions.Section, typeof(AbuseLimitOptions)), (DispatchOptions.Section, typeof(DispatchOptions)),
        (BuiltInHandlerOptions.Section, typeof(BuiltInHandlerOptions)), (MetricsOptions.Section, typeof(MetricsOptions)),
        (LangGraphOptions.Section, typeof(LangGraphOptions)),
    ];

    [Trait("Category", "System")]
    [Fact]
    public async Task The_Kubernetes_manifests_pass_the_Kubernetes_API_schemas_and_a_wrongly_typed_field_does_not()
    {
        var documents = await ManifestsAsync(Directory.GetFiles(Path.Combine(Deploy, "kubernetes"), "*.yaml", SearchOption.AllDirectories));
        Assert.Equal(["Deployment", "Ingress", "PodDisruptionBudget", "Secret", "Service", "StatefulSet"],
            documents.Select(d => d["kind"]!.GetValue<string>()).Distinct().Order(StringComparer.Ordinal));

        using var data = new TempDirectory();
        var broken = Path.Combine(data.Path, "broken.yaml");
        await File.WriteAllTextAsync(broken, (await File.ReadAllTextAsync(Path.Combine(Deploy, "kubernetes", "sqlite", "receiver.yaml")))
            .Replace("containerPort: 8080", "containerPort: http", StringComparison.Ordinal));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ManifestsAsync([broken]));
        Assert.Contains("containerPort must be integer", refused.Message, StringComparison.Ordinal);
    }

    [Trait("Category", "System")]
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Each_variant_runs_the_image_with_the_port_probe_routes_settings_shutdown_time_and_body_limit_of_the_service(string variant)
    {
        var folder = Path.Combine(Deploy, "kubernetes", variant);
        var documents = await ManifestsAsync(Directory.GetFiles(folder, "*.yaml"));
        var workload = documents.Single(d => d["kind"]!.GetValue<string>() is "StatefulSet" or "Deployment");
        var pod = workload["spec"]!["template"]!["spec"]!;
        var container = pod["containers"]!.AsArray().Single()!;
        var secret = documents.Single(d => d["kind"]!.GetValue<string>() == "Secret");

        // The port the image listens on (the Dockerfile's ASPNETCORE_HTTP_PORTS), named http for the probes and the Service.
        var imagePort = int.Parse(Regex.Match(await File.ReadAllTextAsync(Path.Combine(BuiltService.RepositoryRoot, "Dockerfile")),
            @"ENV ASPNETCORE_HTTP_PORTS=(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        var port = Assert.Single(container["ports"]!.AsArray())!;
        Assert.Equal(("http", imagePort), (port["name"]!.GetValue<string>(), port["containerPort"]!.GetValue<int>()));
        Assert.Equal(("/health/live", "http"), Probe(container, "startupProbe"));
        Assert.Equal(("/health/live", "http"), Probe(container, "livenessProbe"));
        Assert.Equal(("/health/ready", "http"), Probe(container, "readinessProbe"));
        var service = documents.Single(d => d["kind"]!.GetValue<string>() == "Service");
        Assert.Equal("http", Assert.Single(service["spec"]!["ports"]!.AsArray())!["targetPort"]!.GetValue<string>());

        // Every variable is a setting the service binds; secrets come from the variant's Secret, by keys it has.
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        var fromSecret = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var variable in container["env"]!.AsArray())
        {
            var name = variable!["name"]!.GetValue<string>();
            Assert.StartsWith("WebhookReceiver__", name, StringComparison.Ordinal);
            if (variable["valueFrom"]?["secretKeyRef"] is { } reference)
            {
                Assert.Equal(secret["metadata"]!["name"]!.GetValue<string>(), reference["name"]!.GetValue<string>());
                fromSecret[name] = secret["stringData"]![reference["key"]!.GetValue<string>()]!.GetValue<string>();
                AssertBound(name, fromSecret[name]);
            }
            else
            {
                environment[name] = variable["value"]!.GetValue<string>();
                AssertBound(name, environment[name]!);
            }
        }

        Assert.Equal(["WebhookReceiver__AdminKeys__0", "WebhookReceiver__Tokens__0"], fromSecret.Keys.Where(k => !k.Contains("Storage", StringComparison.Ordinal)).Order(StringComparer.Ordinal));

        // The Secret's placeholders are refused by the service's start-up validation; real-length secrets pass every check.
        using (var placeholders = Services(environment.Concat(fromSecret.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))))
        {
            var refused = Assert.Throws<OptionsValidationException>(() => placeholders.GetRequiredService<IOptions<WebhookReceiverOptions>>().Value);
            Assert.Contains("WebhookReceiver:Tokens (env WebhookReceiver__Tokens__0) or a LangGraph deployment's Tokens has a value shorter than", refused.Message, StringComparison.Ordinal);
            Assert.Contains("WebhookReceiver:AdminKeys (env WebhookReceiver__AdminKeys__0) has a value shorter than", refused.Message, StringComparison.Ordinal);
        }

        var real = fromSecret.ToDictionary(s => s.Key, s => (string?)(s.Key.Contains("Storage", StringComparison.Ordinal)
            ? "Host=db.internal;Database=webhooks;Username=webhooks;Password=x" : new string('k', 40)), StringComparer.Ordinal);
        using var services = Services(environment.Concat(real));
        var options = services.GetRequiredService<IOptions<WebhookReceiverOptions>>().Value;
        var storage = services.GetRequiredService<IOptions<StorageOptions>>().Value;
        Assert.NotNull(services.GetRequiredService<IOptions<DispatchOptions>>().Value);
        var shutdown = services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout;

        // SIGKILL comes after terminationGracePeriodSeconds, which must hold the preStop sleep and the host's whole shutdown.
        var preStop = container["lifecycle"]!["preStop"]!["exec"]!["command"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        Assert.Equal("sleep", preStop[0]);
        var grace = TimeSpan.FromSeconds(pod["terminationGracePeriodSeconds"]!.GetValue<int>());
        Assert.True(grace >= TimeSpan.FromSeconds(int.Parse(preStop[1], CultureInfo.InvariantCulture)) + shutdown,
            $"terminationGracePeriodSeconds {grace} is shorter than preStop {preStop[1]} s + the host's shutdown timeout {shutdown}");

        // The ingress controller lets through exactly the bodies the receiver accepts, on the receiver's webhook route only.
        var ingress = documents.Single(d => d["kind"]!.GetValue<string>() == "Ingress");
        Assert.Equal(options.MaxBodyBytes, NginxSize(ingress["metadata"]!["annotations"]!["nginx.ingress.kubernetes.io/proxy-body-size"]!.GetValue<string>()));
        var path = Assert.Single(Assert.Single(ingress["spec"]!["rules"]!.AsArray())!["http"]!["paths"]!.AsArray())!;
        Assert.Equal(options.Path, path["path"]!.GetValue<string>());
        Assert.Equal(service["metadata"]!["name"]!.GetValue<string>(), path["backend"]!["service"]!["name"]!.GetValue<string>());

        var replicas = workload["spec"]!["replicas"]!.GetValue<int>();
        if (variant == "sqlite")
        {
            // One process per file, on the volume the image declares, where the connection string points.
            Assert.Equal(("StatefulSet", 1, StorageProvider.Sqlite), (workload["kind"]!.GetValue<string>(), replicas, storage.Provider));
            var volume = Regex.Match(await File.ReadAllTextAsync(Path.Combine(BuiltService.RepositoryRoot, "Dockerfile")), @"VOLUME \[""([^""]+)""\]").Groups[1].Value;
            Assert.Equal(volume, Assert.Single(container["volumeMounts"]!.AsArray())!["mountPath"]!.GetValue<string>());
            Assert.Equal(volume, Path.GetDirectoryName(Path.Combine("/app", new SqliteConnectionStringBuilder(storage.ConnectionString).DataSource)));
        }
        else
        {
            Assert.Equal(("Deployment", StorageProvider.Postgres), (workload["kind"]!.GetValue<string>(), storage.Provider));
            Assert.True(replicas >= 2, $"{replicas} replicas");
        }
    }

    [Trait("Category", "System")]
    [Fact]
    public async Task The_alert_rules_pass_promtool_check_and_their_unit_tests()
    {
        Assert.Contains("SUCCESS: 7 rules found", await Command.RunAsync(Promtool, ["check", "rules", Rules]), StringComparison.Ordinal);
        Assert.Contains("SUCCESS", await Command.RunAsync(Promtool, ["test", "rules", RuleTests]), StringComparison.Ordinal);
    }

    [Trait("Category", "System")]
    [Fact]
    public async Task Each_alert_has_a_unit_test_that_fails_without_it()
    {
        var alerts = AlertNames().ToList();
        Assert.Equal(7, alerts.Count);
        using var data = new TempDirectory();
        File.Copy(RuleTests, Path.Combine(data.Path, Path.GetFileName(RuleTests)));
        foreach (var alert in alerts)
        {
            // The rules file less this alert's rule (from its "- alert:" line to the next one or the end).
            var text = await File.ReadAllTextAsync(Rules);
            var start = text.IndexOf($"      - alert: {alert}\n", StringComparison.Ordinal);
            var end = text.IndexOf("      - alert: ", start + 1, StringComparison.Ordinal);
            await File.WriteAllTextAsync(Path.Combine(data.Path, Path.GetFileName(Rules)), text[..start] + (end < 0 ? "" : text[end..]));

            var failed = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                Command.RunAsync(Promtool, ["test", "rules", Path.Combine(data.Path, Path.GetFileName(RuleTests))]));
            Assert.Contains($"alertname: {alert}", failed.Message, StringComparison.Ordinal);
        }
    }

    [Trait("Category", "System")]
    [Fact]
    public async Task Every_metric_the_dashboard_and_the_rules_use_is_one_the_running_service_exposes_and_every_query_parses()
    {
        var expressions = DashboardExpressions().Concat(RuleExpressions()).ToList();
        var used = expressions.SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);
        Assert.All(expressions, e => Assert.Matches(MetricName(), e)); // No query reads only metrics from elsewhere.

        // Every dashboard query is valid PromQL: promtool checks it as a recording rule (Grafana's intervals made concrete).
        using var data = new TempDirectory();
        var asRules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        foreach (var (expression, i) in DashboardExpressions().Select((e, i) => (e, i)))
        {
            var concrete = expression.Replace("$__rate_interval", "5m", StringComparison.Ordinal);
            asRules.Append(CultureInfo.InvariantCulture, $"      - record: dashboard_query_{i}\n        expr: '{concrete.Replace("'", "''", StringComparison.Ordinal)}'\n");
        }

        var dashboardRules = Path.Combine(data.Path, "dashboard.rules.yml");
        await File.WriteAllTextAsync(dashboardRules, asRules.ToString());
        await Command.RunAsync(Promtool, ["check", "rules", dashboardRules]);

        // The service with a handler that fails (dead letters), a deployment swept twice (recovered, then failed) and a pause
        // waiting, so that every series exists; then one webhook through and each probe route once.
        await using var langGraph = await CannedLangGraphServer.StartAsync();
        var threads = FakeLangGraph.Threads(DateTimeOffset.UtcNow.AddMinutes(-5), 1, runsPerThread: 1);
        langGraph.Answer = new FakeLangGraph.Server(FakeLangGraph.Flavor.Python, threads).Answer;
        var settings = ServiceProcess.Settings(data.Path);
        settings["WebhookReceiver__Metrics__PendingRefreshInterval"] = "00:00:00";
        settings["WebhookReceiver__Alerts__Interval"] = "00:00:00.200"; // alerts_open is set by the evaluator's rounds
        settings["WebhookReceiver__Dispatch__MaxAttempts"] = "1";
        settings["WebhookReceiver__Handlers__Forward__0__Name"] = "unreachable";
        settings["WebhookReceiver__Handlers__Forward__0__Url"] = "http://127.0.0.1:9/hook";
        settings["WebhookReceiver__Handlers__Forward__0__Secret"] = "forward-secret-dddddddddddddddd";
        settings["WebhookReceiver__LangGraph__Deployments__0__Name"] = "prod";
        settings["WebhookReceiver__LangGraph__Deployments__0__ApiUrl"] = langGraph.Url.ToString();
        settings["WebhookReceiver__LangGraph__Verify"] = "Off";
        settings["WebhookReceiver__LangGraph__DetectInterrupts"] = "false";
        settings["WebhookReceiver__LangGraph__Sweep__Interval"] = "00:00:00";
        settings["WebhookReceiver__LangGraph__Sweep__Grace"] = "00:00:00";
        await using var service = await ServiceProcess.StartAsync(settings);
        var client = service.CreateClient();
        var admin = service.CreateClient(admin: true);

        using (var content = new StringContent(Payloads.Run().ToJsonString(), Encoding.UTF8, "application/json"))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/webhooks/langgraph?token={TestApp.Token}", content)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/langgraph/sweep", null)).StatusCode);
        langGraph.Answer = (_, _) => new CannedAnswer(401, "bad key");
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/langgraph/sweep", null)).StatusCode);
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(data.Path, "webhooks.db")};Default Timeout=30"))
        {
            await connection.OpenAsync();
            await using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO interrupts (deployment, thread_id, pause_key, pending, next_nodes, seen_at, state) VALUES ('prod', 't', 'k', '[]', '[]', 0, 'waiting')";
            await insert.ExecuteNonQueryAsync();
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var metrics = new PrometheusText(await client.GetStringAsync("/metrics"));
            var missing = used.Where(name => !metrics.Has(name)).Order(StringComparer.Ordinal).ToList();
            if (missing.Count == 0)
            {
                // The route label the readiness alert and panel select on is the one ASP.NET Core writes.
                Assert.NotNull(metrics.Value("http_server_request_duration_seconds_count", ("http_route", "/health/ready"), ("http_response_status_code", "200")));
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the service never exposed {string.Join(", ", missing)}:\n{metrics.Text}");
            await Task.Delay(200);
        }
    }

    private static string Promtool =>
        File.Exists("/usr/bin/promtool") ? "/usr/bin/promtool"
        : throw new InvalidOperationException("promtool is not installed: apt-get install prometheus (scripts/test.sh does it).");

    /// <summary>Validates the files with tests/deploy-manifests/validate.mjs and returns their documents; throws with its errors.</summary>
    private static async Task<List<JsonNode>> ManifestsAsync(IEnumerable<string> files)
    {
        var validator = Path.Combine(BuiltService.RepositoryRoot, "tests", "deploy-manifests");
        if (!Directory.Exists(Path.Combine(validator, "node_modules", "kubernetes-models")))
        {
            throw new InvalidOperationException($"kubernetes-models is not installed in {validator}: run `npm ci` there (scripts/test.sh does it).");
        }

        var output = await Command.RunAsync("node", [Path.Combine(validator, "validate.mjs"), .. files]);
        return JsonNode.Parse(output)!.AsArray().Select(d => d!).ToList();
    }

    private static (string Path, string Port) Probe(JsonNode container, string probe) =>
        (container[probe]!["httpGet"]!["path"]!.GetValue<string>(), container[probe]!["httpGet"]!["port"]!.GetValue<string>());

    /// <summary>
    /// Fails unless <paramref name="variable"/> names a property of the options type bound to its section, and
    /// <paramref name="value"/> binds to it (the binder, told to, throws for a key no property takes).
    /// </summary>
    private static void AssertBound(string variable, string value)
    {
        var key = variable.Replace("__", ":", StringComparison.Ordinal);
        var (section, type) = Sections.Where(s => key.StartsWith(s.Section + ":", StringComparison.Ordinal)).MaxBy(s => s.Section.Length);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        var error = Record.Exception(() => configuration.GetSection(section).Get(type, binder => binder.ErrorOnUnknownConfiguration = true));
        Assert.True(error is null, $"{variable} is not a setting the service binds: {error?.Message}");
    }

    private static ServiceProvider Services(IEnumerable<KeyValuePair<string, string?>> environment)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(environment.Select(e => KeyValuePair.Create(e.Key.Replace("__", ":", StringComparison.Ordinal), e.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IHostEnvironment>(new HostingEnvironment { EnvironmentName = Environments.Production });
        services.AddWebhookReceiver(configuration);
        return services.BuildServiceProvider();
    }

    /// <summary>An nginx size (<c>32m</c>, <c>512k</c>, <c>1048576</c>) in bytes: k and m are 1024-based.</summary>
    private static long NginxSize(string size) => char.ToLowerInvariant(size[^1]) switch
    {
        'k' => long.Parse(size[..^1], CultureInfo.InvariantCulture) * 1024,
        'm' => long.Parse(size[..^1], CultureInfo.InvariantCulture) * 1024 * 1024,
        'g' => long.Parse(size[..^1], CultureInfo.InvariantCulture) * 1024 * 1024 * 1024,
        _ => long.Parse(size, CultureInfo.InvariantCulture),
    };

    private static IEnumerable<string> AlertNames() =>
        AlertLine().Matches(File.ReadAllText(Rules)).Select(m => m.Groups[1].Value);

    private static IEnumerable<string> DashboardExpressions() =>
        JsonNode.Parse(File.ReadAllText(Dashboard))!["panels"]!.AsArray()
            .SelectMany(p => p!["targets"]!.AsArray()).Select(t => t!["expr"]!.GetValue<string>());

    // The rules' expr values, single-line or block (|) scalars alike, read as promtool prints them back would be overkill:
    // the metric names are all this test needs from them.
    private static IEnumerable<string> RuleExpressions()
    {
        var lines = File.ReadAllLines(Rules);
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("expr:", StringComparison.Ordinal))
            {
                var expression = new StringBuilder(lines[i].TrimStart()["expr:".Length..].Trim().TrimStart('|'));
                var indent = lines[i].Length - lines[i].TrimStart().Length;
                while (i + 1 < lines.Length && lines[i + 1].Length - lines[i + 1].TrimStart().Length > indent)
                {
                    expression.Append(' ').Append(lines[++i].Trim());
                }

                yield return expression.ToString().Trim();
            }
        }
    }

    // The service's own families: its meter, ASP.NET Core's and the runtime's.
    [GeneratedRegex(@"\b(webhookreceiver|http_server|kestrel|aspnetcore|dotnet|process)_[a-z0-9_]+\b")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"^\s*- alert: (\w+)$", RegexOptions.Multiline)]
    private static partial Regex AlertLine();
}
