using System.Text;
using System.Text.Json;
using Proxy.Ingress;
using Proxy.Routing;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// The splice that sends a client's own Messages request to a host of Claude: every byte as the client sent it (prompt
/// caches key on exact bytes, and fields the gateway does not know must reach the model), except what the host's
/// <see cref="AnthropicDialect"/> wants elsewhere. Anthropic's API: the model value renamed to the target's. Vertex AI:
/// the model property taken out (the URL names it) and, unless the client already set one, <c>anthropic_version</c>
/// put in its place, so the body keeps its key order.
/// </summary>
internal static class AnthropicPassthroughBody
{
    private static ReadOnlySpan<byte> VersionKey => "anthropic_version"u8;

    /// <summary>
    /// <paramref name="versionProperty"/> is the dialect's <c>"anthropic_version":"..."</c> (null where the version is a
    /// header). A dialect that keeps the model in the body takes its version as a header.
    /// </summary>
    public static BodyEdits Plan(ReadOnlySpan<byte> body, in RequestFacts facts, AnthropicDialect dialect, byte[]? versionProperty, Target target)
    {
        if (dialect.ModelInBody) return BodyEdits.Plan(facts, target.SameNameUpstream ? null : target.UpstreamModelJson, requestStreamUsage: false);
        if (versionProperty is not null && HasTopLevelField(body, VersionKey)) versionProperty = null;
        if (facts.HasModel)
        {
            var (start, end) = ModelProperty(body, facts);
            return versionProperty is not null ? One(start, end - start, versionProperty) : Removal(body, start, end);
        }
        if (versionProperty is null) return default;
        // No model to stand in for: the version goes first, where no comma before it is needed.
        int open = body.IndexOf((byte)'{');
        bool empty = SkipSpace(body, open + 1) == facts.ObjectEnd;
        return One(open + 1, 0, empty ? versionProperty : [.. versionProperty, (byte)',']);
    }

    /// <summary>The encoded <c>"anthropic_version":"value"</c> property, made once per adapter.</summary>
    public static byte[] VersionProperty(string version) =>
        Encoding.UTF8.GetBytes("\"anthropic_version\":\"" + JsonEncodedText.Encode(version) + "\"");

    /// <summary>
    /// From the model key's opening quote to the end of its value. The peeker gives the value's range; the key is found
    /// walking back over the colon: the key means "model" however it is escaped, so it holds no quote character.
    /// </summary>
    private static (int Start, int End) ModelProperty(ReadOnlySpan<byte> body, in RequestFacts facts)
    {
        int colon = SkipSpaceBack(body, facts.ModelStart - 1);
        int keyEnd = SkipSpaceBack(body, colon - 1);
        int keyStart = body[..keyEnd].LastIndexOf((byte)'"');
        return (keyStart, facts.ModelStart + facts.ModelLength);
    }

    /// <summary>Takes a property out with one of the commas around it (the one before it, or after it when it is first).</summary>
    private static BodyEdits Removal(ReadOnlySpan<byte> body, int start, int end)
    {
        int before = SkipSpaceBack(body, start - 1);
        if (body[before] == (byte)',') return One(before, end - before, []);
        int after = SkipSpace(body, end);
        if (body[after] == (byte)',') return One(start, after + 1 - start, []);
        return One(start, end - start, []); // the only property
    }

    /// <summary>
    /// Whether the top-level object has <paramref name="key"/>. A byte search rules most bodies out at once; only a body
    /// that has the word somewhere (in a message, a nested object) is walked. A key the client spelled with escapes
    /// slips past the byte search; no client writes one.
    /// </summary>
    private static bool HasTopLevelField(ReadOnlySpan<byte> body, ReadOnlySpan<byte> key)
    {
        if (body.IndexOf(key) < 0) return false;
        // The peeker's depth limit, so a body it accepted is walked without a JsonException.
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 128 });
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(key)) return true;
            reader.Read();
            reader.Skip();
        }
        return false;
    }

    private static BodyEdits One(int offset, int length, byte[] replacement) =>
        new() { First = new BodyEdits.Edit(offset, length, replacement), Count = 1 };

    private static int SkipSpace(ReadOnlySpan<byte> body, int i)
    {
        while (i < body.Length && IsSpace(body[i])) i++;
        return i;
    }

    private static int SkipSpaceBack(ReadOnlySpan<byte> body, int i)
    {
        while (i > 0 && IsSpace(body[i])) i--;
        return i;
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';
}
