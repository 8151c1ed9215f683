namespace Proxy.Config;

/// <summary>
/// The config's <c>control_plane:</c> section: providers, routes, teams and keys live in Postgres instead of the file,
/// every replica composes them with its file and reloads within a second of a change. Read at start.
/// </summary>
public sealed record ControlPlaneSettings
{
    /// <summary>An Npgsql connection string or a <c>postgres://user:pass@host:port/db</c> URL; never logged.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>
    /// The AES-256 key (base64 of 32 bytes, from <c>${NAME}</c> or <c>${file:PATH}</c>) that seals provider credentials at
    /// rest. Null: credentials can only be references (<c>${NAME}</c>, <c>${file:PATH}</c>), never stored.
    /// </summary>
    public byte[]? MasterKey { get; init; }

    /// <summary>Where the last snapshot is kept, so a replica that restarts while Postgres is down still starts.</summary>
    public required string SnapshotFile { get; init; }

    /// <summary>How often the version is checked besides LISTEN/NOTIFY (the backstop).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Admin keys from the file (id and hash): how the first admin gets in; more are made through the API.</summary>
    public IReadOnlyList<(string Id, Keys.KeyHash Hash)> AdminKeys { get; init; } = [];

    /// <summary>Whether the admin API is served (on the client port unless <see cref="AdminListen"/> is set).</summary>
    public bool AdminApi { get; init; } = true;

    /// <summary>A port of its own for /admin/v1 (e.g. http://0.0.0.0:9091): then the client port does not serve it.</summary>
    public Uri? AdminListen { get; init; }
}
