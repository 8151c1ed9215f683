using System.Text.Json;
using Proxy.Answers;
using Proxy.ClientApis.OpenAiChat;
using Proxy.Errors;
using Proxy.Streaming;

namespace Proxy.Providers.OpenAI;

/// <summary>
/// A whole OpenAI chat.completion (OpenAI, Azure OpenAI, compatible servers, the mock) read into neutral events, for
/// clients that speak another API: Start, the reasoning (<c>reasoning_content</c> or <c>reasoning</c>), the content (none
/// when null) and a refusal as text, each tool call as a start and its arguments (the upstream's string token, copied),
/// the finish reason, the usage, End. As in the stream, only choice 0 is read (<see cref="OpenAiChatStreamDecoder"/>).
/// An answer with no choice, or one that is not JSON, throws <see cref="InvalidUpstreamAnswerException"/>.
/// </summary>
public static class OpenAiChatAnswerDecoder
{
    public static void Decode(ReadOnlySpan<byte> body, AnswerWriter writer)
    {
        try
        {
            DecodeAnswer(body, writer);
        }
        catch (JsonException e)
        {
            throw new InvalidUpstreamAnswerException("the answer is not valid JSON: " + e.Message, e);
        }
    }

    private static void DecodeAnswer(ReadOnlySpan<byte> json, AnswerWriter writer)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new InvalidUpstreamAnswerException("the answer is not a JSON object");
        ReadOnlySpan<byte> id = default, model = default;
        Utf8JsonReader choice = default;
        bool hasChoice = false, hasUsage = false;
        var usage = default(Usage);
        // The top level first (its order is the server's), so the events go out in the contract's order.
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                id = RawJson.StringToken(json, reader);
                reader.Skip();
            }
            else if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                model = RawJson.StringToken(json, reader);
                reader.Skip();
            }
            else if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    if (!hasChoice && RawJson.IsFirstChoice(reader))
                    {
                        choice = reader;
                        hasChoice = true;
                    }
                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    OpenAiUsage.ReadUsageObject(ref reader, ref usage);
                    hasUsage = true;
                }
                else reader.Skip();
            }
            else RawJson.SkipValue(ref reader);
        }
        if (!hasChoice)
        {
            throw new InvalidUpstreamAnswerException(OpenAiError.FindMessage(json) is { } message
                ? "the answer has no choices; it says: " + message
                : "the answer has no choices");
        }

        writer.Start(RawJson.NonEmpty(id), RawJson.NonEmpty(model));
        Choice(json, ref choice, writer);
        if (hasUsage) writer.SetUsage(usage);
        writer.End();
    }

    private static void Choice(ReadOnlySpan<byte> json, ref Utf8JsonReader reader, AnswerWriter writer)
    {
        var finish = FinishReason.None;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject) Message(json, ref reader, writer);
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
        if (finish != FinishReason.None) writer.Finish(finish);
    }

    /// <summary>The message's texts, then each call in the array's order: its start, then its whole arguments as one fragment.</summary>
    private static void Message(ReadOnlySpan<byte> json, ref Utf8JsonReader reader, AnswerWriter writer)
    {
        var message = OpenAiMessage.Read(json, ref reader);
        message.WriteTexts(writer);
        if (!message.HasToolCalls) return;
        var calls = message.ToolCalls;
        int index = 0;
        while (calls.Read() && calls.TokenType == JsonTokenType.StartObject)
        {
            var call = OpenAiToolCall.Read(json, ref calls);
            writer.ToolCallStart(index, call.Id, call.Name);
            if (!RawJson.IsEmpty(call.Arguments)) writer.ToolCallArguments(index, call.Arguments);
            index++;
        }
    }
}
