using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using WebhookReceiver.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookReceiver.Tests.Container;

/// <summary>
/// There is no Docker engine where the tests run, so the Dockerfile is carried out by hand, as Docker would: its build
/// stage's COPY (through .dockerignore) and RUN dotnet commands in a folder standing for the build container's file system,
/// then its runtime stage's COPY --from, WORKDIR, ENV, ENTRYPOINT and HEALTHCHECK. The commands are read from the
/// Dockerfile, so that what is tested is what the image builds. Not proven here: the base images, the layer cache, the
/// non-root user's permissions and the volume itself.
/// </summary>
[Trait("Category", "System")]
public sealed class ContainerTests(ITestOutputHelper output)
{
    private const string Token = "container-token-eeeeeeeeeeeeeeeeeeeeeeeeeee";
    private const string AdminKey = "container-admin-key-ffffffffffffffffffffffff";

    [Fact]
    public async Task The_Dockerfile_build_publishes_a_service_that_starts_as_its_entrypoint_does_with_the_repository_settings()
    {
        var root = BuiltService.RepositoryRoot;
        var stages = Dockerfile.Parse(Path.Combine(root, "Dockerfile"));
        var ignore = new DockerIgnore(Path.Combine(root, ".dockerignore"));
        var build = Assert.Single(stages, s => s.Name == "build");
        var runtime = stages[^1];
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", build.Image, StringComparison.Ordinal);
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0", runtime.Image, StringComparison.Ordinal);
        using var scratch = new TempDirectory();
        var buildFs = Path.Combine(scratch.Path, "build");
        var runtimeFs = Path.Combine(scratch.Path, "runtime");

        // Build stage: every instruction, in order.
        var stopwatch = Stopwatch.StartNew();
        var workdir = "/";
        var restoredBeforeSources = false;
        foreach (var instruction in build.Instructions)
        {
            switch (instruction.Keyword)
            {
                case "WORKDIR":
                    workdir = ContainerPath(workdir, instruction.Arguments);
                    Directory.CreateDirectory(Host(buildFs, workdir));
                    break;
                case "COPY":
                    Copy(instruction, workdir, buildFs, contextRoot: root, ignore);
                    break;
                case "RUN":
                    var words = instruction.Words();
                    Assert.True(words[0] == "dotnet", $"the build stage runs only dotnet commands here: RUN {instruction.Arguments}");
                    restoredBeforeSources |= words[1] == "restore" && !File.Exists(Host(buildFs, "/src/src/WebhookReceiver/Program.cs"));
                    await RunAsync(Host(buildFs, workdir), words.Select(w => w.StartsWith('/') ? Host(buildFs, w) : w).ToArray());
                    break;
                default:
                    Assert.Fail($"the container test does not model {instruction.Keyword} in the build stage");
                    break;
            }
        }

        output.WriteLine($"build stage: {stopwatch.Elapsed.TotalSeconds:0.0} s");
        Assert.True(restoredBeforeSources, "the restore runs on the project files alone, before the sources are copied (its layer stays cached)");
        var publish = build.All("RUN").Select(r => r.Words()).Single(w => w[1] == "publish");
        Assert.Contains("--no-restore", publish);
        Assert.Equal(["-c", "Release"], publish.SkipWhile(w => w != "-c").Take(2));

        // Runtime stage.
        workdir = "/";
        var environment = new Dictionary<string, string>();
        foreach (var instruction in runtime.Instructions)
        {
            switch (instruction.Keyword)
            {
                case "WORKDIR":
                    workdir = ContainerPath(workdir, instruction.Arguments);
                    Directory.CreateDirectory(Host(runtimeFs, workdir));
                    break;
                case "COPY":
                    Assert.StartsWith("--from=build ", instruction.Arguments, StringComparison.Ordinal);
                    Copy(instruction, workdir, runtimeFs, contextRoot: buildFs, ignore: null);
                    break;
                case "RUN":
                    // Only folder creation is modelled; ownership ($APP_UID) cannot be checked without the image.
                    foreach (var command in instruction.Arguments.Split("&&", StringSplitOptions.TrimEntries))
                    {
                        if (command.StartsWith("mkdir -p ", StringComparison.Ordinal))
                        {
                            foreach (var folder in command["mkdir -p ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                            {
                                Directory.CreateDirectory(Host(runtimeFs, ContainerPath(workdir, folder)));
                            }
                        }
                        else
                        {
                            Assert.StartsWith("chown $APP_UID ", command, StringComparison.Ordinal);
                        }
                    }

                    break;
                case "ENV":
                    foreach (Match pair in Regex.Matches(instruction.Arguments, @"(\w+)=(\S+)"))
                    {
                        environment[pair.Groups[1].Value] = pair.Groups[2].Value;
                    }

                    break;
            }
        }

        Assert.Equal("/app", workdir);
        Assert.Equal("$APP_UID", runtime.Only("USER").Arguments);
        Assert.Equal("8080", environment["ASPNETCORE_HTTP_PORTS"]);
        Assert.Equal("8080", runtime.Only("EXPOSE").Arguments);
        var entrypoint = runtime.Only("ENTRYPOINT").ExecForm();
        Assert.Equal(["dotnet", "WebhookReceiver.dll"], entrypoint);
        var app = Host(runtimeFs, workdir);
        Assert.True(File.Exists(Path.Combine(app, entrypoint[1])), $"{entrypoint[1]} is not in {workdir}");

        // The repository root's appsettings.json is the one published (and so the one in effect).
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(root, "appsettings.json")), await File.ReadAllBytesAsync(Path.Combine(app, "appsettings.json")));

        // Start it as the ENTRYPOINT does: dotnet WebhookReceiver.dll from WORKDIR, production settings from the environment.
        // Only the address differs: a free loopback port instead of 8080 on every interface.
        environment["WebhookReceiver__Tokens__0"] = Token;
        environment["WebhookReceiver__AdminKeys__0"] = AdminKey;
        await using var service = await ServiceProcess.StartAsync(environment, workingDirectory: app, dll: Path.Combine(app, entrypoint[1]));
        var client = service.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        using var webhook = new StringContent(Payloads.Run(token: Token).ToJsonString(), Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/webhooks/langgraph?token={Token}", webhook)).StatusCode);

        // Compact JSON logs are set only by the repository's appsettings.json (the code's default is plain text).
        Assert.Contains(service.Output, line => line.StartsWith('{') && JsonDocument.Parse(line).RootElement.TryGetProperty("@t", out _));
        // The database is where the VOLUME is: the default connection string, relative to WORKDIR.
        var volume = Assert.Single(runtime.Only("VOLUME").ExecForm());
        Assert.Equal("/app/data", volume);
        Assert.True(File.Exists(Path.Combine(Host(runtimeFs, volume), "webhooks.db")), "the SQLite file is not in the volume");
        var compose = await File.ReadAllTextAsync(Path.Combine(root, "docker-compose.yml"));
        Assert.Matches(@"- \w[\w-]*:" + Regex.Escape(volume) + @"\s", compose);

        // HEALTHCHECK: healthy while the service answers, unhealthy once it is gone.
        var healthcheck = runtime.Only("HEALTHCHECK").ExecForm(after: "CMD");
        var probe = healthcheck.Select(w => w.StartsWith('/') ? Host(runtimeFs, w) : w).ToArray();
        var probeEnvironment = new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = service.BaseAddress.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        Assert.Equal(0, (await RunAsync(app, probe, probeEnvironment, mustSucceed: false)).ExitCode);
        await service.KillAsync();
        Assert.Equal(1, (await RunAsync(app, probe, probeEnvironment, mustSucceed: false)).ExitCode);
    }

    private static string ContainerPath(string workdir, string path) =>
        path.StartsWith('/') ? path.TrimEnd('/') : (workdir.TrimEnd('/') + "/" + path.TrimEnd('/', '.')).TrimEnd('/') is { Length: > 0 } p ? p : "/";

    private static string Host(string fileSystem, string containerPath) => Path.Combine(fileSystem, containerPath.TrimStart('/'));

    /// <summary>COPY [--from=stage] source... destination, with Docker's rules for files, folders and a trailing '/'.</summary>
    private static void Copy(DockerInstruction copy, string workdir, string fileSystem, string contextRoot, DockerIgnore? ignore)
    {
        var words = copy.Words().Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToArray();
        var (sources, destination) = (words[..^1], words[^1]);
        var target = Host(fileSystem, ContainerPath(workdir, destination));
        var intoFolder = destination.EndsWith('/') || destination == "." || sources.Length > 1;
        foreach (var source in sources)
        {
            var from = source.StartsWith('/') ? Host(contextRoot, source) : Path.GetFullPath(Path.Combine(contextRoot, source));
            var relative = Path.GetRelativePath(contextRoot, from).Replace('\\', '/');
            if (Directory.Exists(from))
            {
                CopyFolder(from, target, contextRoot, ignore);
            }
            else
            {
                Assert.True(File.Exists(from), $"COPY {source}: not in the build context");
                Assert.False(ignore?.Excludes(relative) == true, $"COPY {source}: excluded by .dockerignore");
                var to = intoFolder ? Path.Combine(target, Path.GetFileName(from)) : target;
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Copy(from, to, overwrite: true);
            }
        }
    }

    // Excluded folders are not entered: node_modules and bin folders are large.
    private static void CopyFolder(string from, string to, string contextRoot, DockerIgnore? ignore)
    {
        Directory.CreateDirectory(to);
        foreach (var entry in new DirectoryInfo(from).EnumerateFileSystemInfos())
        {
            if (ignore?.Excludes(Path.GetRelativePath(contextRoot, entry.FullName).Replace('\\', '/')) == true)
            {
                continue;
            }

            if (entry is DirectoryInfo folder)
            {
                CopyFolder(folder.FullName, Path.Combine(to, folder.Name), contextRoot, ignore);
            }
            else
            {
                File.Copy(entry.FullName, Path.Combine(to, entry.Name), overwrite: true);
            }
        }
    }

    private async Task<(int ExitCode, string Output)> RunAsync(
        string workingDirectory, string[] command, IDictionary<string, string>? environment = null, bool mustSucceed = true)
    {
        var start = new ProcessStartInfo(command[0])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in command[1..])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var text = await stdout + await stderr;
        output.WriteLine($"$ {string.Join(' ', command)} -> {process.ExitCode}");
        if (mustSucceed)
        {
            Assert.True(process.ExitCode == 0, $"{string.Join(' ', command)} failed ({process.ExitCode}):\n{text}");
        }

        return (process.ExitCode, text);
    }
}
