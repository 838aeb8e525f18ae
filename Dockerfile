# syntax=docker/dockerfile:1
# The receiver as a container: SQLite in /app/data (a volume), port 8080, a non-root user.
# tests/WebhookReceiver.Tests/Container/ContainerTests.cs runs this file's build-stage commands and ENTRYPOINT, so they cannot drift.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore on the project files alone: this layer stays cached until a project or a package version changes.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/WebhookReceiver.Core/WebhookReceiver.Core.csproj src/WebhookReceiver.Core/
COPY src/WebhookReceiver.Console/WebhookReceiver.Console.csproj src/WebhookReceiver.Console/
COPY src/WebhookReceiver/WebhookReceiver.csproj src/WebhookReceiver/
RUN dotnet restore src/WebhookReceiver/WebhookReceiver.csproj
COPY . .
RUN dotnet publish src/WebhookReceiver -c Release -o /app/publish --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app/publish .
# The default connection string (Data Source=data/webhooks.db) is relative to the working directory: the database lives in
# /app/data, which belongs to the app user so that a fresh named volume is writable.
RUN mkdir -p /app/data && chown $APP_UID /app/data
VOLUME ["/app/data"]
ENV ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
USER $APP_UID
# The runtime image has no curl or wget: the assembly itself asks /health/ready (see src/WebhookReceiver/HealthProbe.cs).
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["dotnet", "/app/WebhookReceiver.dll", "--healthcheck"]
ENTRYPOINT ["dotnet", "WebhookReceiver.dll"]
