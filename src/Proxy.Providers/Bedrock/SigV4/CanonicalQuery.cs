namespace Proxy.Providers.Bedrock.SigV4;

/// <summary>
/// The canonical query string: parameters decoded, re-encoded with SigV4's encoding ('/' and '=' included), sorted by
/// name then value. Bedrock's calls have no query; this is here so the signer is whole and the suite's query vectors pass.
/// </summary>
internal static class CanonicalQuery
{
    public static void Write(string? query, PooledWriter output)
    {
        if (string.IsNullOrEmpty(query)) return;
        var pairs = new List<(string Name, string Value)>();
        foreach (var part in query.Split('&'))
        {
            if (part.Length == 0) continue;
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? part : part[..eq];
            var value = eq < 0 ? "" : part[(eq + 1)..];
            pairs.Add((Encode(AwsUriEncoding.Decode(name)), Encode(AwsUriEncoding.Decode(value))));
        }
        pairs.Sort((a, b) =>
        {
            int byName = string.CompareOrdinal(a.Name, b.Name);
            return byName != 0 ? byName : string.CompareOrdinal(a.Value, b.Value);
        });
        for (int i = 0; i < pairs.Count; i++)
        {
            if (i > 0) output.Write((byte)'&');
            output.Write(pairs[i].Name);
            output.Write((byte)'=');
            output.Write(pairs[i].Value);
        }
    }

    private static string Encode(string text)
    {
        using var w = new PooledWriter(text.Length * 3 + 8);
        AwsUriEncoding.Write(w, text, keepSlash: false);
        return AwsUriEncoding.ToAscii(w.Written);
    }
}
