using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using Proxy.Answers;
using Proxy.ClientApis;
using Proxy.Config;
using Proxy.Pipeline;
using Proxy.Providers.Anthropic;
using Proxy.Providers.Bedrock.Converse;
using Proxy.Providers.Bedrock.Invoke;

namespace Proxy.Providers.Bedrock;

/// <summary>
/// AWS Bedrock through the Converse API: POST {endpoint}/model/{modelId}/converse (plain) and /converse-stream
/// (the binary event stream). The route's model is the model id, inference profile id or ARN, escaped as one path
/// segment. Requests are translated from the OpenAI shape; answers and stream events are decoded into neutral answer
/// events (<see cref="ConverseAnswerDecoder"/>, <see cref="ConverseStreamDecoder"/>) for the client's writer; signing happens
/// in the transport (<see cref="SigV4.SigV4Handler"/>), or a Bedrock API key goes as a bearer token.
/// <para>
/// A client speaking Anthropic's Messages API to a Claude model passes through instead: its own request goes to
/// InvokeModel, POST {endpoint}/model/{modelId}/invoke or /invoke-with-response-stream (<see cref="InvokeModelBody"/>);
/// the plain answer is Anthropic's Message as it is, and the stream is unwrapped into Anthropic's SSE
/// (<see cref="InvokeStreamTranscoder"/>).
/// </para>
/// </summary>
public sealed class BedrockAdapter : ProviderAdapter
{
    private readonly string _endpoint;
    private readonly Uri _baseUrl;
    private readonly string? _bearer;
    private readonly IDisposable? _owned;
    private readonly ConcurrentDictionary<string, ModelUrls> _urls = new(StringComparer.Ordinal);

    private sealed record ModelUrls(Uri Converse, Uri Stream, Uri Invoke, Uri InvokeStream);

    /// <param name="endpoint">https://bedrock-runtime.REGION.amazonaws.com, or base_url.</param>
    /// <param name="owned">Disposed with the adapter (the credential source).</param>
    public BedrockAdapter(ProviderSettings settings, HttpMessageInvoker invoker, Uri endpoint, IDisposable? owned = null)
        : base(settings, invoker)
    {
        _baseUrl = endpoint;
        _endpoint = endpoint.ToString().TrimEnd('/');
        _bearer = string.IsNullOrEmpty(settings.ApiKey) ? null : "Bearer " + settings.ApiKey;
        _owned = owned;
    }

    /// <summary>
    /// Claude on Bedrock speaks Anthropic's Messages API (InvokeModel); Converse is no client API the gateway speaks.
    /// Which one a call uses depends on its target's model: <see cref="PassesThrough"/> decides per call.
    /// </summary>
    public override bool Speaks(ApiFormat format) => format == ApiFormat.AnthropicMessages;

    /// <summary>Only Claude models take Anthropic's body; every other model, and token counting, goes through Converse or is refused.</summary>
    public override bool PassesThrough(in UpstreamCall call) =>
        call.Operation == Operation.ChatCompletions && IsClaude(call.Target.UpstreamModel) && base.PassesThrough(call);

    /// <summary>
    /// Anthropic's models on Bedrock: "anthropic.claude-...", cross-region profiles ("us.anthropic.claude-..."), and ARNs
    /// naming either. An application inference profile's ARN does not say its model: it stays on Converse, which serves
    /// Claude as well.
    /// </summary>
    internal static bool IsClaude(string model) => model.Contains("anthropic.", StringComparison.OrdinalIgnoreCase);

    public override HttpRequestMessage BuildRequest(in UpstreamCall call)
    {
        if (call.Operation != Operation.ChatCompletions)
            throw CallRejectedException.Unsupported($"Provider '{Settings.Name}' (bedrock) serves chat completions only; Converse has no embeddings.", "model");
        var urls = Urls(call.Target.UpstreamModel);
        bool passthrough = PassesThrough(call);
        var body = new PooledBuffer(call.Body.Length + 256);
        try
        {
            if (passthrough) InvokeModelBody.Write(call, body);
            else ConverseRequestWriter.Write(call.Body, body);
        }
        catch
        {
            // A request Converse cannot express (CallRejectedException): the pooled buffer goes back before the relay answers.
            body.Dispose();
            throw;
        }
        var url = passthrough ? (call.Facts.Stream ? urls.InvokeStream : urls.Invoke) : call.Facts.Stream ? urls.Stream : urls.Converse;
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new SignableJsonContent(body) };
        UpstreamTransport.SetVersion(request, _baseUrl);
        var headers = request.Headers;
        headers.TryAddWithoutValidation("Accept", call.Facts.Stream ? "application/vnd.amazon.eventstream" : "application/json");
        if (_bearer is not null) headers.TryAddWithoutValidation("Authorization", _bearer);
        foreach (var (name, value) in Settings.Headers) headers.TryAddWithoutValidation(name, value);
        return request;
    }

    // Converse names no model in its answers: the answer carries the target's.
    public override StreamDecoder CreateStreamDecoder(in UpstreamCall call) => new ConverseStreamDecoder(call.Target.UpstreamModelJson, Settings.Name);

    public override void DecodeAnswer(ReadOnlySpan<byte> upstreamBody, in UpstreamCall call, AnswerWriter writer) =>
        ConverseAnswerDecoder.Decode(upstreamBody, call.Target.UpstreamModelJson, writer);

    protected override StreamTranscoder CreatePassthroughTranscoder(in UpstreamCall call) => new InvokeStreamTranscoder(call.Api, Settings.Name);

    /// <summary>Only passed-through answers are read here, and those are Anthropic's Message (InvokeModel's answer for Claude).</summary>
    public override void ReadUsage(ReadOnlySpan<byte> upstreamBody, ref Usage usage) => AnthropicMessageDecoder.ReadUsage(upstreamBody, ref usage);

    public override UpstreamFailure ClassifyError(int status, ReadOnlySpan<byte> body)
    {
        var (type, message) = ErrorBody(body);
        return BedrockErrors.Classify(Settings.Name, status, type, message);
    }

    /// <summary>AWS names the error in x-amzn-ErrorType; the body usually holds only the message.</summary>
    public override UpstreamFailure ClassifyError(int status, HttpResponseHeaders headers, ReadOnlySpan<byte> body)
    {
        var (type, message) = ErrorBody(body);
        if (headers.TryGetValues("x-amzn-ErrorType", out var values)) type = values.FirstOrDefault() ?? type;
        return BedrockErrors.Classify(Settings.Name, status, type, message);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _owned?.Dispose();
        base.Dispose(disposing);
    }

    private ModelUrls Urls(string model) => _urls.TryGetValue(model, out var urls) ? urls : _urls.GetOrAdd(model, m =>
    {
        // One path segment, RFC 3986-escaped (':' and '/' included), as the AWS SDKs send model ids, profiles and ARNs.
        var prefix = _endpoint + "/model/" + Uri.EscapeDataString(m);
        return new ModelUrls(new Uri(prefix + "/converse"), new Uri(prefix + "/converse-stream"), new Uri(prefix + "/invoke"), new Uri(prefix + "/invoke-with-response-stream"));
    });

    /// <summary>The message (and an error type, when the body names one) of a Bedrock or AWS front-end error body.</summary>
    private static (string? Type, string? Message) ErrorBody(ReadOnlySpan<byte> body)
    {
        string? type = null, message = null;
        var reader = new Utf8JsonReader(body);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return (null, null);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isMessage = reader.ValueTextEquals("message"u8) || reader.ValueTextEquals("Message"u8);
                bool isType = reader.ValueTextEquals("__type"u8) || reader.ValueTextEquals("code"u8);
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && isMessage) message = reader.GetString();
                else if (reader.TokenType == JsonTokenType.String && isType) type = reader.GetString();
                else reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page): the status alone decides.
        }
        return (type, message);
    }
}
