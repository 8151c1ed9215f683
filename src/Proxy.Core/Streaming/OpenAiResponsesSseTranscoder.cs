using System.Buffers;
using System.Text.Json;
using Proxy.ClientApis;
using Proxy.ClientApis.OpenAiResponses;
using Proxy.ClientApis.OpenAiResponses.Store;
using Proxy.Providers;

namespace Proxy.Streaming;

/// <summary>
/// Passes an OpenAI Responses API stream through event by event, unchanged, for clients that speak that API to an
/// upstream that does too (OpenAI, Azure OpenAI). The stream has no [DONE]: it ends with its terminal event, which
/// carries the whole response and its usage. response.completed and response.incomplete complete it;
/// response.failed completes it as failed, and an <c>error</c> event fails it. Usage (input_tokens with
/// input_tokens_details.cached_tokens, output_tokens) is read from the terminal event's response.
/// <para>
/// Only each event's top-level <c>type</c> is read, usually its first property; the terminal event, once per stream, is
/// read further for the usage. For a request with its own <see cref="OpenAiResponsesApi"/>, response.created is read
/// further too, once per stream: the provider keeps the response under its id, which the request's API notes
/// (<see cref="OpenAiResponsesApi.PassedThrough"/>) so that the gateway can forward GET/DELETE for it later.
/// </para>
/// </summary>
public sealed class OpenAiResponsesSseTranscoder : SseEventTranscoder
{
    /// <summary>Stateless, so one instance serves every stream that needs no id noted.</summary>
    public static OpenAiResponsesSseTranscoder Instance { get; } = new(null);

    private readonly OpenAiResponsesApi? _notes;

    private OpenAiResponsesSseTranscoder(OpenAiResponsesApi? notes) => _notes = notes;

    /// <summary>The transcoder for one stream: its own instance when the request's API notes the provider's response id, else the shared one.</summary>
    public static OpenAiResponsesSseTranscoder For(ClientApi api)
    {
        if (api is not OpenAiResponsesApi { Facts: not null } own) return Instance;
        own.PassedThrough(null); // a new attempt: whatever an earlier one noted is not this answer's
        return new OpenAiResponsesSseTranscoder(own);
    }

    private enum Kind : byte
    {
        Other,
        Created,
        Completed,
        Incomplete,
        Failed,
        Error,
    }

    private static ReadOnlySpan<byte> EventEnd => "\n\n"u8;

    protected override void OnEvent(ReadOnlySpan<byte> evt, IBufferWriter<byte> output, ref StreamState state)
    {
        // The terminal event ends the answer: anything a server sends after it (a stray [DONE]) is not the client's.
        if (state.Completed || state.Failed) return;
        var dest = output.GetSpan(evt.Length + 2);
        evt.CopyTo(dest);
        EventEnd.CopyTo(dest[evt.Length..]);
        output.Advance(evt.Length + 2);
        state.EventsWritten++;

        if (!SseFramer.TryGetData(evt, out var data)) return; // a comment keeps an idle connection alive
        switch (KindOf(data))
        {
            case Kind.Created:
                _notes?.PassedThrough(PassthroughResponseIds.OfEvent(data));
                break;
            case Kind.Completed or Kind.Incomplete:
                ReadUsage(data, ref state.Usage);
                state.Completed = true;
                break;
            case Kind.Failed:
                ReadUsage(data, ref state.Usage);
                state.Completed = true;
                state.Failed = true;
                break;
            case Kind.Error:
                state.Failed = true; // the provider's own error event: the client sees it and the stream ends
                break;
        }
    }

    /// <summary>The event's top-level "type"; an event that is not JSON is passed on and counts as nothing.</summary>
    private static Kind KindOf(ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return Kind.Other;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isType = reader.ValueTextEquals("type"u8);
                reader.Read();
                if (!isType)
                {
                    reader.Skip();
                    continue;
                }
                if (reader.TokenType != JsonTokenType.String) return Kind.Other;
                return reader.ValueTextEquals("response.created"u8) ? Kind.Created
                    : reader.ValueTextEquals("response.completed"u8) ? Kind.Completed
                    : reader.ValueTextEquals("response.incomplete"u8) ? Kind.Incomplete
                    : reader.ValueTextEquals("response.failed"u8) ? Kind.Failed
                    : reader.ValueTextEquals("error"u8) ? Kind.Error
                    : Kind.Other;
            }
        }
        catch (JsonException)
        {
        }
        return Kind.Other;
    }

    /// <summary>response.usage of a terminal event; left as it was when there is none (a failed response may have none).</summary>
    private static void ReadUsage(ReadOnlySpan<byte> data, ref Usage usage)
    {
        var reader = new Utf8JsonReader(data);
        try
        {
            if (!OpenAiUsage.TryEnterTopLevelObject(ref reader, "response"u8)) return;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isUsage = reader.ValueTextEquals("usage"u8);
                reader.Read();
                if (isUsage && reader.TokenType == JsonTokenType.StartObject)
                {
                    var read = default(Usage);
                    OpenAiUsage.ReadUsageObject(ref reader, ref read);
                    usage = read;
                    return;
                }
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Passed on as it came; accounting just has no usage for it.
        }
    }
}
