using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Proxy.Ingress;

/// <summary>
/// Reads only the top-level fields the gateway needs with Utf8JsonReader and skips the rest, which also
/// validates the whole document without building it. Never deserializes the body. What the reader does not check
/// is checked here too: the body is UTF-8 throughout, and no \u escape leaves a UTF-16 surrogate unpaired
/// (<see cref="UnicodeChecks"/>), so nothing goes upstream that is not I-JSON.
/// </summary>
public static class RequestPeeker
{
    private static ReadOnlySpan<byte> Model => "model"u8;
    private static ReadOnlySpan<byte> StreamProp => "stream"u8;
    private static ReadOnlySpan<byte> StreamOptions => "stream_options"u8;
    private static ReadOnlySpan<byte> IncludeUsage => "include_usage"u8;
    private static ReadOnlySpan<byte> MaxTokens => "max_tokens"u8;
    private static ReadOnlySpan<byte> MaxCompletionTokens => "max_completion_tokens"u8;

    /// <summary>Returns null on success, or the client-facing reason the body is not acceptable (and the offending param).</summary>
    public static PeekError? TryPeek(ReadOnlySpan<byte> body, out RequestFacts facts)
    {
        facts = default;
        // One vectorized pass; the reader's own pass then only has to look at the strings that have escapes.
        if (!Utf8.IsValid(body)) return InvalidUtf8(body);
        try
        {
            return Peek(body, ref facts);
        }
        catch (LoneSurrogateException e)
        {
            return new PeekError($"the request body is not valid Unicode: the escape '{Encoding.ASCII.GetString(body.Slice(e.Offset, 6))}' at byte " +
                $"{e.Offset} is half of a UTF-16 surrogate pair (JSON text must not contain unpaired surrogates, RFC 7493)", null, e.Offset);
        }
        catch (JsonException e)
        {
            return new PeekError(Describe(e, body), null);
        }
    }

    /// <summary>
    /// The token loop, in a method with no exception handler: with the handlers in the same method the whole peek ran
    /// 10-30% slower (measured), the reader's state being kept where the handlers could see it.
    /// </summary>
    private static PeekError? Peek(ReadOnlySpan<byte> body, ref RequestFacts facts)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 128 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            return new PeekError("the request body must be a JSON object", null);

        int maxTokens = 0, maxCompletionTokens = 0;
        Seen seen = 0;
        while (Next(ref reader) && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(Model))
            {
                if (!First(ref seen, Seen.Model)) return Duplicate("model");
                Next(ref reader);
                if (reader.TokenType != JsonTokenType.String) return new PeekError("'model' must be a string", "model");
                facts.ModelStart = (int)reader.TokenStartIndex;
                facts.ModelLength = (int)reader.BytesConsumed - facts.ModelStart;
            }
            else if (reader.ValueTextEquals(StreamProp))
            {
                if (!First(ref seen, Seen.Stream)) return Duplicate("stream");
                Next(ref reader);
                if (reader.TokenType is JsonTokenType.True or JsonTokenType.False) facts.Stream = reader.GetBoolean();
                else if (reader.TokenType != JsonTokenType.Null) return new PeekError("'stream' must be a boolean", "stream");
            }
            else if (reader.ValueTextEquals(StreamOptions))
            {
                if (!First(ref seen, Seen.StreamOptions)) return Duplicate("stream_options");
                Next(ref reader);
                facts.StreamOptionsStart = (int)reader.TokenStartIndex;
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    facts.StreamOptionsIsObject = true;
                    while (Next(ref reader) && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        facts.StreamOptionsHasFields = true;
                        bool isUsage = reader.ValueTextEquals(IncludeUsage);
                        Next(ref reader);
                        if (isUsage)
                        {
                            facts.IncludeUsage = reader.TokenType is JsonTokenType.True;
                            facts.IncludeUsageStart = (int)reader.TokenStartIndex;
                            facts.IncludeUsageLength = (int)reader.BytesConsumed - facts.IncludeUsageStart;
                        }
                        SkipValue(ref reader);
                    }
                }
                else if (reader.TokenType != JsonTokenType.Null) return new PeekError("'stream_options' must be an object", "stream_options");
                facts.StreamOptionsLength = (int)reader.BytesConsumed - facts.StreamOptionsStart;
            }
            else if (reader.ValueTextEquals(MaxTokens))
            {
                if (!First(ref seen, Seen.MaxTokens)) return Duplicate("max_tokens");
                Next(ref reader);
                if (!TryTokenCount(ref reader, ref maxTokens)) return new PeekError("'max_tokens' must be a positive integer", "max_tokens");
            }
            else if (reader.ValueTextEquals(MaxCompletionTokens))
            {
                if (!First(ref seen, Seen.MaxCompletionTokens)) return Duplicate("max_completion_tokens");
                Next(ref reader);
                if (!TryTokenCount(ref reader, ref maxCompletionTokens)) return new PeekError("'max_completion_tokens' must be a positive integer", "max_completion_tokens");
            }
            else
            {
                Next(ref reader);
                SkipValue(ref reader);
            }
        }
        facts.ObjectEnd = (int)reader.TokenStartIndex;
        facts.MaxTokens = maxCompletionTokens > 0 ? maxCompletionTokens : maxTokens;
        // Anything after the top-level object is as malformed as a broken object.
        if (Next(ref reader)) return new PeekError($"unexpected data after the JSON object at byte {reader.TokenStartIndex}", null);
        return null;
    }

    private static PeekError InvalidUtf8(ReadOnlySpan<byte> body)
    {
        int at = UnicodeChecks.FirstInvalidUtf8(body);
        return new PeekError($"the request body is not valid UTF-8: byte {at} (0x{body[at]:X2}) does not begin a valid UTF-8 sequence " +
            "(an overlong form, an encoded surrogate, a stray continuation byte or a cut-off sequence)", null, at);
    }

    /// <summary>reader.Read(), refusing a string or property name whose escapes leave a UTF-16 surrogate unpaired.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // the token loop's hot path: one flag test more than Read
    private static bool Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read()) return false;
        // Only strings with escapes can hold one (a raw surrogate is invalid UTF-8, refused above): the rare case.
        if (reader.ValueIsEscaped) CheckEscapes(ref reader);
        return true;
    }

    private static void CheckEscapes(ref Utf8JsonReader reader)
    {
        if (UnicodeChecks.LoneSurrogateEscape(reader.ValueSpan) is >= 0 and var at)
            throw new LoneSurrogateException((int)reader.TokenStartIndex + 1 + at); // + 1: the opening quote
    }

    /// <summary>reader.Skip() (the same token loop), with each string it passes checked by <see cref="Next"/>.</summary>
    private static void SkipValue(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray)) return;
        int depth = reader.CurrentDepth;
        while (Next(ref reader) && reader.CurrentDepth > depth)
        {
        }
    }

    /// <summary>Unwinds the peek from any depth; failure path only, like the reader's own JsonException.</summary>
    private sealed class LoneSurrogateException(int offset) : Exception
    {
        public int Offset { get; } = offset;
    }

    /// <summary>
    /// A field the gateway decides on must appear once: with two "model" keys the gateway would route and authorize
    /// one while an upstream whose parser keeps the other could serve a model the key was never allowed.
    /// </summary>
    private static PeekError Duplicate(string field) => new($"'{field}' appears more than once in the request body", field);

    [Flags]
    private enum Seen
    {
        Model = 1,
        Stream = 2,
        StreamOptions = 4,
        MaxTokens = 8,
        MaxCompletionTokens = 16,
    }

    private static bool First(ref Seen seen, Seen flag)
    {
        if ((seen & flag) != 0) return false;
        seen |= flag;
        return true;
    }

    private static bool TryTokenCount(ref Utf8JsonReader reader, ref int value)
    {
        if (reader.TokenType == JsonTokenType.Null) return true;
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out value) && value > 0;
    }

    /// <summary>"where it broke": the reader's message carries line and byte; add the text around it.</summary>
    private static string Describe(JsonException e, ReadOnlySpan<byte> body)
    {
        var msg = e.Message;
        int cut = msg.IndexOf(" LineNumber", StringComparison.Ordinal);
        var reason = (cut > 0 ? msg[..cut] : msg).TrimEnd('.', ' ');
        long line = (e.LineNumber ?? 0) + 1, col = (e.BytePositionInLine ?? 0) + 1;
        return $"the request body is not valid JSON: {reason} (line {line}, column {col}){Excerpt(body, line, col)}";
    }

    private static string Excerpt(ReadOnlySpan<byte> body, long line, long col)
    {
        int start = 0;
        for (long l = 1; l < line && start < body.Length; l++)
        {
            int nl = body[start..].IndexOf((byte)'\n');
            if (nl < 0) return "";
            start += nl + 1;
        }
        int at = (int)Math.Min(start + col - 1, body.Length);
        int from = Math.Max(start, at - 20), to = Math.Min(body.Length, at + 20);
        if (to <= from) return "";
        var text = Encoding.UTF8.GetString(body[from..to]).ReplaceLineEndings(" ");
        return $" near '{text}'";
    }
}

/// <summary>
/// Why a body was refused, the request parameter at fault when there is one, and the byte offset of a text that is
/// not Unicode (-1 for other failures: the message gives a JSON error's line and column).
/// </summary>
public sealed record PeekError(string Message, string? Param, int Offset = -1);
