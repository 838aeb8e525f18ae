using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Kernel;

/// <summary><c>WebhookReceiver:Storage</c>: where and how webhooks are stored.</summary>
internal sealed class StorageOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string Section = "WebhookReceiver:Storage";

    /// <summary>The engine (names are read case-insensitively; another name stops the start naming this setting).</summary>
    [EnumDataType(typeof(StorageProvider), ErrorMessage = "WebhookReceiver:Storage:Provider must be Sqlite or Postgres.")]
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>For SQLite, <c>Data Source=</c> a path relative to the working directory; for PostgreSQL, an Npgsql connection string.</summary>
    [Required]
    public string ConnectionString { get; set; } = "Data Source=data/webhooks.db";

    /// <summary>SQLite <c>PRAGMA synchronous</c> (<see href="https://www.sqlite.org/pragma.html#pragma_synchronous"/>); ignored by PostgreSQL.</summary>
    [EnumDataType(typeof(SqliteSynchronous), ErrorMessage = "WebhookReceiver:Storage:Synchronous must be Normal, Full or Extra.")]
    public SqliteSynchronous Synchronous { get; set; } = SqliteSynchronous.Normal;
}

/// <summary>Where webhooks are stored: <c>WebhookReceiver:Storage:Provider</c>.</summary>
internal enum StorageProvider
{
    /// <summary>An embedded SQLite file: one process (the default).</summary>
    Sqlite,

    /// <summary>A PostgreSQL server: several replicas share one database.</summary>
    Postgres,
}

/// <summary>
/// SQLite's <c>PRAGMA synchronous</c> levels in WAL mode, numbered as sqlite.org/pragma.html#pragma_synchronous numbers
/// them. OFF is not offered: an OS crash or power loss could then corrupt the file and lose acknowledged webhooks.
/// </summary>
internal enum SqliteSynchronous
{
    /// <summary>Survives a process crash; power loss may lose the last commits (the default).</summary>
    Normal = 1,

    /// <summary>Also survives power loss: every commit is synced.</summary>
    Full = 2,

    /// <summary>Like <see cref="Full"/>, and also syncs the directory after unlinking a journal.</summary>
    Extra = 3,
}

/// <summary>The data annotations on <see cref="StorageOptions"/>, checked by generated code at start-up.</summary>
[OptionsValidator]
internal sealed partial class StorageOptionsAnnotations : IValidateOptions<StorageOptions>;
