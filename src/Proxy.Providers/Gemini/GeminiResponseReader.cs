using System.Text.Json;
using Proxy.Answers;
using Proxy.Errors;
using Proxy.Providers.Google;

namespace Proxy.Providers.Gemini;

/// <summary>
/// Reads Gemini <c>GenerateContentResponse</c> objects into neutral answer events: a whole answer is one, each event of
/// a stream is another (with running counts). Of the first candidate (n is 1): text parts are text, thought parts
/// (<c>thought: true</c>) reasoning, a part's <c>thoughtSignature</c> a reasoning signature (told before the part, as
/// it seals the reasoning before it), each functionCall part one tool call whose arguments are the args object's JSON
/// text. Gemini gives calls no id the OpenAI shape can rely on: <see cref="ToolCallIds"/> makes one, carrying a call's
/// signature. finishReason (repeated, last wins) is remembered for <see cref="Finish"/>; usage is passed on as it
/// comes. Text goes on as Gemini escaped it. One instance per answer.
/// </summary>
/// <param name="model">The answer's model as a JSON string token (the target's upstream model).</param>
internal sealed class GeminiResponseReader(byte[] model, string requestId, string provider)
{
    private bool _started;
    private int _toolCalls;
    private FinishReason _finish;
    private GeminiUsage _usage;

    /// <summary>A finishReason was seen: the answer is whole once its body ends.</summary>
    public bool Finished => _finish != FinishReason.None;

    /// <summary>
    /// Reads one response. Returns the failure it carries instead of an answer (an error object, or a prompt blocked
    /// before any candidate), else null. Throws <see cref="JsonException"/> when it is not JSON.
    /// </summary>
    public UpstreamFailure? Read(ReadOnlySpan<byte> json, AnswerWriter writer)
    {
        GoogleErrors.GoogleError? error = null;
        string? blockReason = null, blockMessage = null;
        bool sawCandidate = false;
        var r = new Utf8JsonReader(json);
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return null;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = r;
            r.Read();
            if (name.ValueTextEquals("candidates"u8) && r.TokenType == JsonTokenType.StartArray) sawCandidate |= ReadCandidates(ref r, json, writer);
            else if (name.ValueTextEquals("usageMetadata"u8) && r.TokenType == JsonTokenType.StartObject)
            {
                _usage = GeminiUsage.Read(ref r);
                writer.SetUsage(Usage);
            }
            else if (name.ValueTextEquals("promptFeedback"u8) && r.TokenType == JsonTokenType.StartObject) (blockReason, blockMessage) = ReadFeedback(ref r);
            else if (name.ValueTextEquals("error"u8) && r.TokenType == JsonTokenType.StartObject) error = GoogleErrors.ReadError(ref r);
            else r.Skip();
        }
        if (error is { } e) return GoogleErrors.Classify(provider, e.Code, e);
        if (blockReason is not null && !sawCandidate) return PromptBlocked(blockReason, blockMessage);
        return null;
    }

    /// <summary>The usage last reported, normalized.</summary>
    public Usage Usage => _usage.ToUsage();

    public void EnsureStarted(AnswerWriter writer)
    {
        if (_started) return;
        _started = true;
        // Gemini's responseId is left out: every writer has an id of its own made from the request's.
        writer.Start(default, model);
    }

    /// <summary>Tells the last finishReason seen (a stop with function calls is a tool-call stop).</summary>
    public void Finish(AnswerWriter writer)
    {
        EnsureStarted(writer);
        writer.Finish(GeminiFinishReason.WithToolCalls(_finish, _toolCalls > 0));
    }

    /// <summary>Reads the candidates array (the reader is on its StartArray); returns whether there was a candidate.</summary>
    private bool ReadCandidates(ref Utf8JsonReader r, ReadOnlySpan<byte> json, AnswerWriter writer)
    {
        bool first = true;
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            if (!first || r.TokenType != JsonTokenType.StartObject)
            {
                r.Skip();
                continue;
            }
            first = false;
            EnsureStarted(writer);
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                var name = r;
                r.Read();
                if (name.ValueTextEquals("content"u8) && r.TokenType == JsonTokenType.StartObject) ReadContent(ref r, json, writer);
                else if (name.ValueTextEquals("finishReason"u8) && r.TokenType == JsonTokenType.String) _finish = GeminiFinishReason.FromGemini(r.ValueSpan);
                else r.Skip();
            }
        }
        return !first;
    }

    private void ReadContent(ref Utf8JsonReader r, ReadOnlySpan<byte> json, AnswerWriter writer)
    {
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            bool isParts = r.ValueTextEquals("parts"u8);
            r.Read();
            if (!isParts || r.TokenType != JsonTokenType.StartArray)
            {
                r.Skip();
                continue;
            }
            while (r.Read() && r.TokenType != JsonTokenType.EndArray)
            {
                if (r.TokenType == JsonTokenType.StartObject) ReadPart(ref r, json, writer);
                else r.Skip();
            }
        }
    }

    /// <summary>One part. Its fields come in any order ("thought": true may follow the text), so it is told once read whole.</summary>
    private void ReadPart(ref Utf8JsonReader r, ReadOnlySpan<byte> json, AnswerWriter writer)
    {
        Range text = default, signature = default, callName = default;
        bool thought = false, isCall = false;
        byte[]? arguments = null;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = r;
            r.Read();
            if (name.ValueTextEquals("text"u8) && r.TokenType == JsonTokenType.String) text = Token(ref r);
            else if (name.ValueTextEquals("thought"u8)) thought = r.TokenType == JsonTokenType.True;
            else if (name.ValueTextEquals("thoughtSignature"u8) && r.TokenType == JsonTokenType.String) signature = Token(ref r);
            else if (name.ValueTextEquals("functionCall"u8) && r.TokenType == JsonTokenType.StartObject)
            {
                isCall = true;
                (callName, arguments) = ReadFunctionCall(ref r);
            }
            else r.Skip();
        }
        if (HasContent(signature)) writer.ReasoningSignature(json[signature]);
        if (isCall)
        {
            int index = _toolCalls++;
            var id = ToolCallIds.Create(requestId, index, HasContent(signature) ? Unquote(json[signature]) : null);
            writer.ToolCallStart(index, AnswerText.Quote(id), HasContent(callName) ? json[callName] : "\"\""u8);
            writer.ToolCallArguments(index, arguments ?? ToolArguments.Empty);
        }
        else if (HasContent(text))
        {
            if (thought) writer.Reasoning(json[text]);
            else writer.Text(json[text]);
        }
    }

    private static (Range Name, byte[]? Arguments) ReadFunctionCall(ref Utf8JsonReader r)
    {
        Range name = default;
        byte[]? arguments = null;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var key = r;
            r.Read();
            if (key.ValueTextEquals("name"u8) && r.TokenType == JsonTokenType.String) name = Token(ref r);
            else if (key.ValueTextEquals("args"u8) && r.TokenType == JsonTokenType.StartObject) arguments = ToolArguments.Quote(ref r);
            else r.Skip();
        }
        return (name, arguments);
    }

    private static (string? Reason, string? Message) ReadFeedback(ref Utf8JsonReader r)
    {
        string? reason = null, message = null;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var key = r;
            r.Read();
            if (key.ValueTextEquals("blockReason"u8) && r.TokenType == JsonTokenType.String) reason = r.GetString();
            else if (key.ValueTextEquals("blockReasonMessage"u8) && r.TokenType == JsonTokenType.String) message = r.GetString();
            else r.Skip();
        }
        return (reason, message);
    }

    /// <summary>The client's prompt was refused before any answer: its to change, so a 400 like Azure OpenAI's filtered prompt.</summary>
    private UpstreamFailure PromptBlocked(string reason, string? message) =>
        new(400, OpenAiError.InvalidRequest, "content_filter",
            $"Upstream '{provider}' blocked the prompt (blockReason: {reason})" + (string.IsNullOrEmpty(message) ? "." : ": " + message), false);

    /// <summary>Where the string the reader is on sits in the JSON, quotes included, escapes kept.</summary>
    private static Range Token(ref Utf8JsonReader r)
    {
        int start = (int)r.TokenStartIndex;
        return new Range(start, start + r.ValueSpan.Length + 2);
    }

    private static bool HasContent(Range token) => token.End.Value - token.Start.Value > 2;

    private static string? Unquote(ReadOnlySpan<byte> token)
    {
        var r = new Utf8JsonReader(token);
        r.Read();
        return r.GetString();
    }
}
