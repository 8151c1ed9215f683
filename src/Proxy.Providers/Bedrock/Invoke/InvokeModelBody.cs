using System.Buffers;
using System.Text.Json;
using Proxy.Errors;
using Proxy.Pipeline;
using Proxy.Providers.Anthropic;

namespace Proxy.Providers.Bedrock.Invoke;

/// <summary>
/// A client's own Messages request as the body of Bedrock's InvokeModel for Claude ("Anthropic Claude Messages API" in
/// Bedrock's model parameters): every byte as the client sent it, except what Bedrock wants elsewhere. The model goes
/// in the URL and <c>anthropic_version</c> takes its place, as on Vertex AI (<see cref="AnthropicPassthroughBody"/>);
/// <c>stream</c> is taken out, because the operation (invoke or invoke-with-response-stream) says it and Bedrock
/// refuses the key ("extraneous key [stream] is not permitted"); the client's <c>anthropic-beta</c> header becomes
/// the body's <c>anthropic_beta</c> list, where Bedrock reads betas, unless the body has its own.
/// </summary>
internal static class InvokeModelBody
{
    /// <summary>The anthropic_version Bedrock requires for the Messages API.</summary>
    public const string Version = "bedrock-2023-05-31";

    private static readonly byte[] VersionProperty = AnthropicPassthroughBody.VersionProperty(Version);
    private static readonly AnthropicDialect Dialect = new() { ModelInBody = false, VersionInBody = Version };

    public static void Write(in UpstreamCall call, PooledBuffer output)
    {
        var body = call.Body.Span;
        var edits = AnthropicPassthroughBody.Plan(body, call.Facts, Dialect, VersionProperty, call.Target);
        var betas = BetaProperty(body, call.ClientHeaders);
        var span = output.GetSpan(edits.LengthAfter(body.Length) + (betas?.Length ?? 0));
        int length = edits.CopyTo(body, span);
        length = RemoveTopLevel(span[..length], "stream"u8);
        if (betas is not null) length = InsertLast(span, length, betas);
        output.Advance(length);
    }

    /// <summary>
    /// Takes a top-level property out of <paramref name="json"/> in place, with one comma beside it (the one before it,
    /// or after it when it is first); returns the new length. Works on the spliced body, which is valid JSON whatever
    /// the model splice removed, so the commas never collide with it.
    /// </summary>
    private static int RemoveTopLevel(Span<byte> json, ReadOnlySpan<byte> key)
    {
        if (json.IndexOf(key) < 0) return json.Length;
        int start = -1, end = -1, previousEnd = -1, nextStart = -1;
        // The peeker's depth limit, so a body it accepted is walked without a JsonException.
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 128 });
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            int keyStart = (int)reader.TokenStartIndex;
            if (start >= 0)
            {
                nextStart = keyStart;
                break;
            }
            bool match = reader.ValueTextEquals(key);
            reader.Read();
            reader.Skip();
            if (match) (start, end) = (keyStart, (int)reader.BytesConsumed);
            else previousEnd = (int)reader.BytesConsumed;
        }
        if (start < 0) return json.Length;
        // The cut: from the end of the property before (its comma and the space around) to this one's end; or, for the
        // first property, from its key to the key after it. The only property leaves the braces and their spaces.
        var (cutFrom, cutTo) = previousEnd >= 0 ? (previousEnd, end) : nextStart >= 0 ? (start, nextStart) : (start, end);
        json[cutTo..].CopyTo(json[cutFrom..]);
        return json.Length - (cutTo - cutFrom);
    }

    /// <summary><c>,"anthropic_beta":[...]</c> from the client's anthropic-beta header (values may be comma lists), or null.</summary>
    private static byte[]? BetaProperty(ReadOnlySpan<byte> body, Microsoft.AspNetCore.Http.IHeaderDictionary? headers)
    {
        if (headers is null || !headers.TryGetValue("anthropic-beta", out var values)) return null;
        // A body that names anthropic_beta anywhere keeps its own choice: merging would need a walk, and no client sends both.
        if (body.IndexOf("anthropic_beta"u8) >= 0) return null;
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, JsonOutput.Options))
        {
            writer.WriteStartArray();
            foreach (var value in values)
            {
                foreach (var beta in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) writer.WriteStringValue(beta);
            }
            writer.WriteEndArray();
        }
        if (buffer.WrittenCount <= 2) return null;
        return [.. ",\"anthropic_beta\":"u8, .. buffer.WrittenSpan];
    }

    /// <summary>Puts <paramref name="property"/> (with its leading comma) before the closing brace; returns the new length.</summary>
    private static int InsertLast(Span<byte> json, int length, byte[] property)
    {
        int close = json[..length].LastIndexOf((byte)'}');
        int last = json[..close].TrimEnd(" \t\r\n"u8).Length - 1;
        var insert = json[last] == (byte)'{' ? property.AsSpan(1) : property; // an empty object needs no comma
        json[close..length].CopyTo(json[(close + insert.Length)..]);
        insert.CopyTo(json[close..]);
        return length + insert.Length;
    }
}
