using System.Text.Json.Nodes;

namespace Proxy.ControlPlane;

/// <summary>
/// Which fields of a provider are credentials, sealing them on the way in and masking them on the way out: the API, the
/// CLI's diff, the audit log and the logs only ever see <see cref="SecretSealer.Masked"/> or a reference.
/// </summary>
public static class ProviderSecrets
{
    /// <summary>Credential fields of every provider type (headers' values count too: they often carry one).</summary>
    public static readonly string[] Fields = ["api_key", "client_secret", "identity_header", "secret_access_key", "session_token", "access_key_id"];

    /// <summary>
    /// Seals every plain credential of <paramref name="body"/> in place; a masked one (a round trip of what GET showed)
    /// keeps the sealed value <paramref name="previous"/> holds. Returns an error naming the field, or null.
    /// </summary>
    public static string? Seal(JsonObject body, JsonObject? previous, SecretSealer sealer, string providerName)
    {
        foreach (var (path, value, set) in Credentials(body))
        {
            if (value == SecretSealer.Masked)
            {
                var kept = previous is null ? null : Find(previous, path);
                if (kept is null || !SecretSealer.IsSealed(kept))
                    return $"{path}: '{SecretSealer.Masked}' stands for a stored credential, and this provider has none there; give the credential or a reference";
                set(kept);
                continue;
            }
            if (SecretSealer.IsSealed(value) || SecretSealer.IsReference(value)) continue;
            // The same credential as stored keeps its sealed text: applying one file twice changes nothing.
            if (previous is not null && Find(previous, path) is { } stored && SecretSealer.IsSealed(stored)
                && sealer.Unseal(stored[9..^1], out _) == value)
            {
                set(stored);
                continue;
            }
            if (!sealer.CanSeal)
                return $"{path}: a credential can only be stored with control_plane.master_key configured; give it as a reference instead (${{NAME}} or ${{file:PATH}})";
            set(sealer.Seal(value, "provider/" + providerName));
        }
        return null;
    }

    /// <summary>A copy of <paramref name="body"/> with every sealed credential shown as <see cref="SecretSealer.Masked"/>.</summary>
    public static JsonObject Masked(JsonObject body)
    {
        var copy = (JsonObject)body.DeepClone();
        foreach (var (_, value, set) in Credentials(copy))
            if (SecretSealer.IsSealed(value)) set(SecretSealer.Masked);
        return copy;
    }

    /// <summary>Masks sealed values anywhere in any object (for the audit log of every kind).</summary>
    public static JsonNode? MaskAll(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                var copy = new JsonObject();
                foreach (var (k, v) in o) copy[k] = MaskAll(v);
                return copy;
            case JsonArray a:
                var list = new JsonArray();
                foreach (var v in a) list.Add(MaskAll(v));
                return list;
            case JsonValue v when v.TryGetValue<string>(out var s) && SecretSealer.IsSealed(s):
                return JsonValue.Create(SecretSealer.Masked);
            default:
                return node?.DeepClone();
        }
    }

    private static IEnumerable<(string Path, string Value, Action<string> Set)> Credentials(JsonObject body)
    {
        foreach (var field in Fields)
            if (body[field] is JsonValue v && v.TryGetValue<string>(out var s))
                yield return (field, s, x => body[field] = x);
        if (body["headers"] is JsonObject headers)
            foreach (var name in headers.Select(h => h.Key).ToList())
                if (headers[name] is JsonValue hv && hv.TryGetValue<string>(out var s))
                    yield return ("headers." + name, s, x => headers[name] = x);
    }

    private static string? Find(JsonObject body, string path)
    {
        JsonNode? node = path.StartsWith("headers.", StringComparison.Ordinal) ? body["headers"]?[path["headers.".Length..]] : body[path];
        return node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    }
}
