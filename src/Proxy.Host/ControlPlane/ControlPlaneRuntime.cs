using Proxy.Config;
using Proxy.ControlPlane;

namespace Proxy.Host.ControlPlane;

/// <summary>
/// The control plane of this replica when the config has <c>control_plane:</c>: its store, the data the config loader
/// composes with the file, and the loop that keeps them in step. <see cref="Disabled"/> otherwise (the embedded
/// default: the file holds everything).
/// </summary>
public sealed class ControlPlaneRuntime
{
    public static readonly ControlPlaneRuntime Disabled = new();

    private ControlPlaneRuntime()
    {
    }

    public ControlPlaneRuntime(ControlPlaneSettings settings, ControlPlaneStore store, ControlPlaneData data)
    {
        Settings = settings;
        Store = store;
        Data = data;
    }

    public ControlPlaneSettings? Settings { get; }
    public ControlPlaneStore? Store { get; }
    public ControlPlaneData? Data { get; }

    /// <summary>Set once the app is built (it reloads through the app's config watcher).</summary>
    public ControlPlaneSync? Sync { get; set; }

    /// <summary>Why the replica started from its snapshot file instead of the database; null when it did not.</summary>
    public string? StartedFromSnapshot { get; init; }

    public bool Enabled => Store is not null;

    /// <summary>
    /// Opens the control plane for the config at <paramref name="configPath"/>, or returns <see cref="Disabled"/>: applies
    /// the migrations (under the advisory lock) and loads the objects; with Postgres unreachable, starts from the snapshot
    /// file of the last run, and fails only when there is none.
    /// </summary>
    public static ControlPlaneRuntime Open(string configPath, TextWriter log)
    {
        var settings = ConfigLoader.ReadControlPlaneSection(configPath);
        if (settings is null) return Disabled;
        var db = ControlPlaneDatabase.Create(settings.ConnectionString);
        var store = new ControlPlaneStore(db);
        var data = new ControlPlaneData(new SecretSealer(settings.MasterKey));
        string? fromSnapshot = null;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            var applied = Migrator.MigrateAsync(db, cts.Token).GetAwaiter().GetResult();
            if (applied.Count > 0) log.WriteLine($"control plane: applied migrations {string.Join(", ", applied)}");
            data.Update(store.LoadAsync(cts.Token).GetAwaiter().GetResult());
            try
            {
                data.Save(settings.SnapshotFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.WriteLine($"control plane: snapshot not saved to {settings.SnapshotFile}: {e.Message}");
            }
        }
        catch (Exception e) when (e is not ConfigException)
        {
            var where = ControlPlaneDatabase.Redact(settings.ConnectionString);
            if (!File.Exists(settings.SnapshotFile))
                throw new ConfigException(configPath, [new ConfigError("control_plane.url", 0, 0,
                    $"the control plane at {where} is unreachable ({e.Message}) and there is no snapshot at {settings.SnapshotFile} from an earlier run to start from")]);
            data.Update(ControlPlaneData.Read(settings.SnapshotFile));
            fromSnapshot = $"the control plane at {where} was unreachable at start ({e.Message})";
            log.WriteLine($"control plane: {fromSnapshot}; starting from the snapshot {settings.SnapshotFile} (version {data.Version})");
        }
        return new ControlPlaneRuntime(settings, store, data) { StartedFromSnapshot = fromSnapshot };
    }
}
