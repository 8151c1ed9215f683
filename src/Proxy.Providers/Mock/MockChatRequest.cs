using System.Text.Json;

namespace Proxy.Providers.Mock;

/// <summary>A chat completions body checked the way the real API checks it, in one pass.</summary>
internal static class MockChatRequest
{
    // The order in which the API reports faults when a body has several: its schema's order, not the document's. From
    // measured pairs: messages, (functions), tools, (parallel_tool_calls), max_completion_tokens, n, temperature, top_p,
    // presence_penalty, frequency_penalty, ..., stream. Where max_tokens sits was not measured: next to its successor.
    private const int MissingMessages = 0;
    private const int Messages = 10;
    private const int Tools = 20;
    private const int MaxTokens = 30;
    private const int MaxCompletionTokens = 31;
    private const int N = 40;
    private const int Temperature = 50;
    private const int TopP = 51;
    private const int PresencePenalty = 52;
    private const int FrequencyPenalty = 53;
    private const int Stream = 60;
    private const int Late = 100;

    public static MockFault? Check(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, MockValidation.ReaderOptions);
        reader.Read();
        MockFault? best = null;
        bool hasMessages = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = Field(ref reader);
            hasMessages |= field == Messages;
            reader.Read();
            MockFault.Keep(ref best, field switch
            {
                Messages => MockMessages.Check(ref reader, Messages, Late),
                Tools => MockTools.Check(ref reader, Tools),
                MaxTokens => MockScalars.Integer(ref reader, MaxTokens, "max_tokens", 1),
                MaxCompletionTokens => MockScalars.Integer(ref reader, MaxCompletionTokens, "max_completion_tokens", 1),
                N => MockScalars.Integer(ref reader, N, "n", 1),
                Temperature => MockScalars.Decimal(ref reader, Temperature, "temperature", 0, 2, "0", "2"),
                TopP => MockScalars.Decimal(ref reader, TopP, "top_p", 0, 1, "0", "1"),
                PresencePenalty => MockScalars.Decimal(ref reader, PresencePenalty, "presence_penalty", -2, 2, "-2", "2"),
                FrequencyPenalty => MockScalars.Decimal(ref reader, FrequencyPenalty, "frequency_penalty", -2, 2, "-2", "2"),
                Stream => MockScalars.Boolean(ref reader, Stream, "stream"),
                _ => Skip(ref reader),
            });
        }
        // A missing messages is reported before anything else.
        return hasMessages ? best : MockFaults.Missing(MissingMessages, "messages");
    }

    /// <summary>The checked field under the reader, as its rank; -1 for any other.</summary>
    private static int Field(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("messages"u8) ? Messages
        : reader.ValueTextEquals("tools"u8) ? Tools
        : reader.ValueTextEquals("max_tokens"u8) ? MaxTokens
        : reader.ValueTextEquals("max_completion_tokens"u8) ? MaxCompletionTokens
        : reader.ValueTextEquals("n"u8) ? N
        : reader.ValueTextEquals("temperature"u8) ? Temperature
        : reader.ValueTextEquals("top_p"u8) ? TopP
        : reader.ValueTextEquals("presence_penalty"u8) ? PresencePenalty
        : reader.ValueTextEquals("frequency_penalty"u8) ? FrequencyPenalty
        : reader.ValueTextEquals("stream"u8) ? Stream
        : -1;

    private static MockFault? Skip(ref Utf8JsonReader reader)
    {
        reader.Skip();
        return null;
    }
}
