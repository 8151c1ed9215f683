using System.Text.Json;
using Proxy.Answers;
using static Proxy.Providers.Bedrock.Converse.ConverseJson;

namespace Proxy.Providers.Bedrock.Converse;

/// <summary>
/// A whole Converse answer read into neutral answer events in one pass: text blocks are text, reasoningText blocks are
/// reasoning with their signature, toolUse blocks are tool calls (the input object as the arguments' JSON text),
/// stopReason is the finish and usage the usage; then the answer ends. Converse gives no id. A body that is not JSON,
/// or not of Converse's shape, is an <see cref="InvalidUpstreamAnswerException"/>: nothing has reached the client then,
/// as whole-answer writers write at the end.
/// </summary>
internal static class ConverseAnswerDecoder
{
    public static void Decode(ReadOnlySpan<byte> body, ReadOnlySpan<byte> model, AnswerWriter writer)
    {
        try
        {
            DecodeAnswer(body, model, writer);
        }
        catch (JsonException e)
        {
            throw new InvalidUpstreamAnswerException("the answer is not JSON (" + e.Message + ")", e);
        }
    }

    private static void DecodeAnswer(ReadOnlySpan<byte> body, ReadOnlySpan<byte> model, AnswerWriter writer)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw NotConverse();
        writer.Start(default, model);
        var finish = FinishReason.None;
        var usage = default(Usage);
        bool sawContent = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("output"u8))
            {
                reader.Read();
                Expect(ref reader, JsonTokenType.StartObject, "output");
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (!reader.ValueTextEquals("message"u8))
                    {
                        SkipValue(ref reader);
                        continue;
                    }
                    reader.Read();
                    Expect(ref reader, JsonTokenType.StartObject, "output.message");
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (!reader.ValueTextEquals("content"u8))
                        {
                            SkipValue(ref reader);
                            continue;
                        }
                        reader.Read();
                        Expect(ref reader, JsonTokenType.StartArray, "output.message.content");
                        sawContent = true;
                        ReadContent(ref reader, body, writer);
                    }
                }
            }
            else if (reader.ValueTextEquals("stopReason"u8))
            {
                reader.Read();
                finish = reader.TokenType == JsonTokenType.String ? StopReasons.ToFinishReason(reader.ValueSpan) : finish;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject) ConverseUsage.Read(ref reader, ref usage);
                else reader.Skip();
            }
            else SkipValue(ref reader);
        }
        if (!sawContent) throw NotConverse();
        if (finish != FinishReason.None) writer.Finish(finish);
        if (usage.Reported) writer.SetUsage(usage);
        writer.End();
    }

    /// <summary>The content blocks (the reader is on the array's start and ends on its end).</summary>
    private static void ReadContent(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, AnswerWriter writer)
    {
        int tools = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            Expect(ref reader, JsonTokenType.StartObject, "a content block");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("text"u8))
                {
                    var text = StringToken(ref reader);
                    if (!Found(text)) throw Shape("a text block's text is not a string");
                    if (HasContent(text)) writer.Text(body[text]);
                }
                else if (reader.ValueTextEquals("toolUse"u8)) ReadToolUse(ref reader, body, tools++, writer);
                else if (reader.ValueTextEquals("reasoningContent"u8)) ReadReasoning(ref reader, body, writer);
                // images, documents, citations, guard content: nothing an answer event holds.
                else SkipValue(ref reader);
            }
        }
    }

    /// <summary>A toolUse block; its fields may come in any order, so the call is told once the block is read.</summary>
    private static void ReadToolUse(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, int index, AnswerWriter writer)
    {
        reader.Read();
        Expect(ref reader, JsonTokenType.StartObject, "a toolUse block");
        Range id = default, name = default;
        byte[]? arguments = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("toolUseId"u8))
            {
                id = StringToken(ref reader);
                if (!Found(id)) throw Shape("a toolUseId is not a string");
            }
            else if (reader.ValueTextEquals("name"u8))
            {
                name = StringToken(ref reader);
                if (!Found(name)) throw Shape("a tool name is not a string");
            }
            else if (reader.ValueTextEquals("input"u8))
            {
                reader.Read();
                arguments = ToolArguments.Quote(ref reader);
            }
            else SkipValue(ref reader);
        }
        writer.ToolCallStart(index, Found(id) ? body[id] : default, Found(name) ? body[name] : default);
        writer.ToolCallArguments(index, arguments ?? ToolArguments.Empty);
    }

    /// <summary>A reasoningContent block: reasoningText (text and signature) or redactedContent, which no event holds.</summary>
    private static void ReadReasoning(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, AnswerWriter writer)
    {
        reader.Read();
        Expect(ref reader, JsonTokenType.StartObject, "a reasoningContent block");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("reasoningText"u8))
            {
                SkipValue(ref reader);
                continue;
            }
            reader.Read();
            Expect(ref reader, JsonTokenType.StartObject, "a reasoningText block");
            Range text = default, signature = default;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("text"u8)) text = StringToken(ref reader);
                else if (reader.ValueTextEquals("signature"u8)) signature = StringToken(ref reader);
                else SkipValue(ref reader);
            }
            if (HasContent(text)) writer.Reasoning(body[text]);
            if (HasContent(signature)) writer.ReasoningSignature(body[signature]);
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string what)
    {
        if (reader.TokenType != type) throw Shape($"{what} is a {reader.TokenType}, not a {type}");
    }

    private static InvalidUpstreamAnswerException NotConverse() => new("the answer has no output.message.content: not a Converse answer");

    private static InvalidUpstreamAnswerException Shape(string detail) => new("the answer does not have Converse's shape (" + detail + ")");
}
