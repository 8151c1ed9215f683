using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using Proxy.Config;

namespace Proxy.ControlPlane;

/// <summary>
/// The control plane as the config loader sees it: the snapshot this replica serves (its objects as the file's data
/// sections, its admin keys) and the master key that opens sealed credentials. Kept on local disk after each load, so a
/// replica that restarts while Postgres is down still starts with what it served.
/// </summary>
public sealed class ControlPlaneData(SecretSealer sealer) : IConfigData
{
    private volatile State _state = new(new ControlPlaneSnapshot(-1, [], []), Proxy.ControlPlane.Sections.Compose([]), FrozenDictionary<string, AdminKey>.Empty);

    private sealed record State(ControlPlaneSnapshot Snapshot, string Sections, FrozenDictionary<string, AdminKey> AdminByHash);

    public SecretSealer Sealer => sealer;

    public string Sections => _state.Sections;

    public ControlPlaneSnapshot Snapshot => _state.Snapshot;

    public long Version => _state.Snapshot.Version;

    public string? Unseal(string sealedValue, out string? error) => sealer.Unseal(sealedValue, out error);

    public void Update(ControlPlaneSnapshot snapshot) =>
        _state = new State(snapshot, Proxy.ControlPlane.Sections.Compose(snapshot.Objects),
            snapshot.AdminKeys.ToFrozenDictionary(k => k.Hash, StringComparer.Ordinal));

    /// <summary>The admin key with this hash (<c>sha256:HEX</c>) in the database's list, or null.</summary>
    public AdminKey? AdminKeyByHash(string hash) => _state.AdminByHash.GetValueOrDefault(hash);

    /// <summary>Writes the snapshot (sealed credentials stay sealed) to <paramref name="path"/>, atomically.</summary>
    public void Save(string path)
    {
        var snapshot = _state.Snapshot;
        var objects = new JsonArray();
        foreach (var o in snapshot.Objects)
        {
            objects.Add((JsonNode)new JsonObject
            {
                ["kind"] = ConfigObject.KindName(o.Kind),
                ["name"] = o.Name,
                ["body"] = o.Body.DeepClone(),
                ["revision"] = o.Revision,
                ["display"] = o.Display,
            });
        }
        var admins = new JsonArray();
        foreach (var a in snapshot.AdminKeys)
            admins.Add((JsonNode)new JsonObject { ["id"] = a.Id, ["hash"] = a.Hash, ["display"] = a.Display, ["created_by"] = a.CreatedBy });
        var doc = new JsonObject { ["version"] = snapshot.Version, ["objects"] = objects, ["admin_keys"] = admins };
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, "." + Path.GetFileName(path) + ".tmp");
        File.WriteAllText(temp, doc.ToJsonString());
        // Only the gateway reads it: it holds hashes and sealed credentials, no secret in the clear.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads a snapshot <see cref="Save"/> wrote; throws with the reason when it cannot.</summary>
    public static ControlPlaneSnapshot Read(string path)
    {
        JsonNode? doc;
        try
        {
            doc = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"control-plane snapshot '{path}' is not valid JSON: {e.Message}");
        }
        if (doc is not JsonObject root || root["version"] is not JsonValue version || root["objects"] is not JsonArray objects)
            throw new InvalidDataException($"control-plane snapshot '{path}' is not one this gateway wrote");
        var list = new List<ConfigObject>();
        foreach (var node in objects)
        {
            if (node is not JsonObject o || !ConfigObject.TryParseKind((string?)o["kind"] ?? "", out var kind) || o["body"] is not JsonObject body) continue;
            list.Add(new ConfigObject(kind, (string?)o["name"] ?? "", (JsonObject)body.DeepClone(), (long?)o["revision"] ?? 1, default, (string?)o["display"]));
        }
        var admins = new List<AdminKey>();
        if (root["admin_keys"] is JsonArray a)
            foreach (var node in a)
                if (node is JsonObject k && (string?)k["id"] is { } id && (string?)k["hash"] is { } hash)
                    admins.Add(new AdminKey(id, hash, (string?)k["display"] ?? "", default, (string?)k["created_by"] ?? ""));
        return new ControlPlaneSnapshot(version.GetValue<long>(), list, admins);
    }
}
