using System.Text.Json;
using Proxy.Answers;
using Proxy.ClientApis.OpenAiChat;
using Proxy.Errors;
using Proxy.Streaming;

namespace Proxy.Providers.OpenAI;

/// <summary>
/// An OpenAI chat.completion.chunk stream (OpenAI, Azure OpenAI, compatible servers, the mock) read into neutral
/// events, for clients that speak another API. The first chunk with an id or a choice starts the answer with its id
/// and model; each delta's reasoning (DeepSeek's and vLLM's <c>reasoning_content</c>, OpenRouter's and newer vLLM's
/// <c>reasoning</c>), content, refusal and tool calls follow in that order; finish_reason finishes it; a usage object
/// sets the usage (the last one wins); <c>data: [DONE]</c> ends it. An error event (<c>{"error":{...}}</c> without
/// choices, or an <c>event: error</c>) fails it; an SSE comment is a keep-alive.
/// <para>
/// A refusal is OpenAI's text in its own field; it goes on as text. OpenAI documents no finish_reason for it (a refused
/// answer ends with "stop"), so the finish reason is whatever the chunk says, never invented.
/// </para>
/// <para>
/// Only choice 0 is read: n &gt; 1 has no translation (Anthropic's and the Responses API's answers hold one message),
/// and the canonical request the gateway writes for those clients never asks for more.
/// </para>
/// <para>
/// Strings are handed on as the upstream escaped them, straight from the event's bytes: nothing is allocated per event
/// beyond what the writer needs. One instance per stream.
/// </para>
/// </summary>
public sealed class OpenAiChatStreamDecoder(string provider) : SseStreamDecoder
{
    // A tool index beyond this is a broken stream, not a plan: writers keep a slot per index.
    private const int MaxToolIndex = 1023;

    private bool _started;
    private ulong _startedTools; // bit per tool index < 64
    private HashSet<int>? _startedHighTools; // indexes from 64 on: only seen in pathological answers
    private int _tools; // one past the highest tool index started
    private int _lastTool = -1; // where a fragment without an index goes

    protected override void OnEvent(ReadOnlySpan<byte> evt, AnswerWriter writer)
    {
        if (!SseFramer.TryGetData(evt, out var data))
        {
            if (!evt.IsEmpty && evt[0] == (byte)':') writer.KeepAlive();
            return;
        }
        if (data.SequenceEqual("[DONE]"u8))
        {
            // An answer with nothing in it still starts before it ends.
            if (!_started) writer.Start(default, default);
            _started = true;
            writer.End();
            return;
        }
        if (data.IsEmpty) return;
        if (IsErrorEvent(evt, data))
        {
            var failure = OpenAiStreamError.Classify(provider, data);
            writer.Error(failure.Message, failure.Type, failure.Code, failure.Status);
            return;
        }
        try
        {
            Chunk(data, writer);
        }
        catch (JsonException)
        {
            writer.Error($"Upstream '{provider}' sent a stream event that is not valid JSON.", OpenAiError.Upstream, "upstream_invalid_answer", 502);
        }
    }

    /// <summary>OpenAI's mid-stream error: an "error" object in a chunk with no choices, or an SSE event named error.</summary>
    private static bool IsErrorEvent(ReadOnlySpan<byte> evt, ReadOnlySpan<byte> data) =>
        (JsonScan.HasValueStartingWith(data, "\"error\""u8, (byte)'{') && JsonScan.ValueOf(data, "\"choices\""u8) < 0)
        || evt.StartsWith("event: error"u8) || evt.StartsWith("event:error"u8) || evt.IndexOf("\nevent: error"u8) >= 0;

    private void Chunk(ReadOnlySpan<byte> json, AnswerWriter writer)
    {
        if (!_started) _started = TryStart(json, writer);
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("a chunk is a JSON object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray) Choices(json, ref reader, writer);
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip(); // "usage": null on every chunk before the last (include_usage)
                    continue;
                }
                var usage = default(Usage);
                OpenAiUsage.ReadUsageObject(ref reader, ref usage);
                writer.SetUsage(usage);
            }
            else RawJson.SkipValue(ref reader);
        }
    }

    /// <summary>
    /// Starts the answer with the chunk's id and model, wherever they stand in it, once a chunk has either an id or a
    /// choice. Azure's first chunk has neither (<c>"id":""</c>, prompt filter results only): the answer starts at the
    /// next one, with the real id.
    /// </summary>
    private static bool TryStart(ReadOnlySpan<byte> json, AnswerWriter writer)
    {
        ReadOnlySpan<byte> id = default, model = default;
        bool hasChoice = false;
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isId = reader.ValueTextEquals("id"u8), isModel = reader.ValueTextEquals("model"u8), isChoices = reader.ValueTextEquals("choices"u8);
            reader.Read();
            if (isId) id = RawJson.NonEmpty(RawJson.StringToken(json, reader));
            else if (isModel) model = RawJson.NonEmpty(RawJson.StringToken(json, reader));
            else if (isChoices && reader.TokenType == JsonTokenType.StartArray)
            {
                var probe = reader;
                hasChoice = probe.Read() && probe.TokenType == JsonTokenType.StartObject;
            }
            reader.Skip();
        }
        if (id.IsEmpty && !hasChoice) return false;
        writer.Start(id, model);
        return true;
    }

    private void Choices(ReadOnlySpan<byte> json, ref Utf8JsonReader reader, AnswerWriter writer)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            if (RawJson.IsFirstChoice(reader)) Choice(json, ref reader, writer);
            else reader.Skip();
        }
    }

    private void Choice(ReadOnlySpan<byte> json, ref Utf8JsonReader reader, AnswerWriter writer)
    {
        var finish = FinishReason.None;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("delta"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject) Delta(json, ref reader, writer);
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("finish_reason"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) finish = FinishReasons.FromOpenAi(reader.ValueSpan);
                else reader.Skip();
            }
            else RawJson.SkipValue(ref reader);
        }
        // After the delta whatever the property order: a server may send the last text and the reason in one chunk.
        if (finish != FinishReason.None) writer.Finish(finish);
    }

    private void Delta(ReadOnlySpan<byte> json, ref Utf8JsonReader reader, AnswerWriter writer)
    {
        var delta = OpenAiMessage.Read(json, ref reader);
        delta.WriteTexts(writer);
        if (!delta.HasToolCalls) return;
        // One entry may start a call and carry its first fragment; one chunk may hold several calls (compatible
        // servers send whole calls at once).
        var calls = delta.ToolCalls;
        while (calls.Read() && calls.TokenType == JsonTokenType.StartObject)
        {
            var call = OpenAiToolCall.Read(json, ref calls);
            ToolCall(call.Index, call.Id, call.Name, call.Arguments, writer);
        }
    }

    /// <summary>An entry with an id or a name starts its call (once per index); its arguments are a fragment.</summary>
    private void ToolCall(int index, ReadOnlySpan<byte> id, ReadOnlySpan<byte> name, ReadOnlySpan<byte> arguments, AnswerWriter writer)
    {
        // Without an index (a few compatible servers): an entry with an id is the next call, one without continues the last.
        if (index < 0) index = !RawJson.IsEmpty(id) || _lastTool < 0 ? _tools : _lastTool;
        if (index > MaxToolIndex) throw new JsonException($"tool call index {index} is out of range");
        if (MarkStarted(index)) writer.ToolCallStart(index, id, name);
        _lastTool = index;
        _tools = Math.Max(_tools, index + 1);
        if (!RawJson.IsEmpty(arguments)) writer.ToolCallArguments(index, arguments);
    }

    /// <summary>Marks a tool index as started; false when it already was.</summary>
    private bool MarkStarted(int index)
    {
        if (index < 64)
        {
            ulong bit = 1UL << index;
            if ((_startedTools & bit) != 0) return false;
            _startedTools |= bit;
            return true;
        }
        return (_startedHighTools ??= []).Add(index);
    }
}
