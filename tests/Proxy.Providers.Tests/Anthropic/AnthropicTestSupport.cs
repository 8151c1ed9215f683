using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Proxy.Answers;
using Proxy.ClientApis;
using Proxy.Config;
using Proxy.Providers.Anthropic;
using Proxy.Providers.Tests.Common;

namespace Proxy.Providers.Tests.Anthropic;

/// <summary>An Anthropic adapter pointed nowhere (fixture tests never send), and calls dated at a fixed instant.</summary>
internal static class AnthropicTestSupport
{
    public const string Model = "claude-sonnet-4-5";
    public const long Created = 1_700_000_000;

    public static ProviderSettings Settings(string apiKey = "sk-ant-test", Dictionary<string, string>? extra = null) => new()
    {
        Name = "anthropic",
        Type = "anthropic",
        BaseUrl = new Uri("https://api.anthropic.com/v1"),
        ApiKey = apiKey,
        Extra = extra ?? [],
    };

    public static AnthropicAdapter Adapter(ProviderSettings? settings = null)
    {
        settings ??= Settings();
        return new AnthropicAdapter(settings, new HttpMessageInvoker(new SocketsHttpHandler()), AnthropicSettings.Read(settings, null));
    }

    /// <summary>A call from an OpenAI chat client (the request translated, the answer decoded), dated <see cref="Created"/>.</summary>
    public static UpstreamCall Call(ProviderAdapter adapter, byte[] body, string model = Model, IHeaderDictionary? clientHeaders = null) =>
        Fixture.Call(adapter.Settings, body, model, clientHeaders: clientHeaders) with { Created = Created };

    /// <summary>A call from a client that speaks Anthropic's Messages API itself (passthrough).</summary>
    public static UpstreamCall MessagesCall(ProviderAdapter adapter, byte[] body, string model = Model, IHeaderDictionary? clientHeaders = null) =>
        Call(adapter, body, model, clientHeaders) with { Api = MessagesClient.Instance };

    public static (HttpRequestMessage Request, string Body) Build(string openAiBody, IHeaderDictionary? clientHeaders = null, AnthropicAdapter? adapter = null)
    {
        adapter ??= Adapter();
        var request = adapter.BuildRequest(Call(adapter, Encoding.UTF8.GetBytes(openAiBody), clientHeaders: clientHeaders));
        return (request, Encoding.UTF8.GetString(Fixture.ContentBytes(request)));
    }

    public static CallRejectedException Refused(string openAiBody) =>
        Assert.Throws<CallRejectedException>(() => Build(openAiBody));
}

/// <summary>
/// Stands in for the Anthropic Messages client API (another part of the gateway): adapters only ask its format, since
/// a passing-through call never reaches its writers or its request translation.
/// </summary>
internal sealed class MessagesClient : ClientApi
{
    public static readonly MessagesClient Instance = new();

    public override ApiFormat Format => ApiFormat.AnthropicMessages;

    public override string Name => "messages";

    public override Operation Operation => Operation.ChatCompletions;

    public override void WriteError(IBufferWriter<byte> output, int status, string message, string type, string? param, string? code) =>
        throw new NotSupportedException();

    public override void WriteErrorEvent(IBufferWriter<byte> output, int status, string message, string type, string? code) =>
        throw new NotSupportedException();

    public override bool IsOwnErrorShape(ReadOnlySpan<byte> body) => throw new NotSupportedException();

    public override AnswerWriter CreateStreamWriter(in UpstreamCall call, long created) => throw new NotSupportedException();

    public override AnswerWriter CreateAnswerWriter(in UpstreamCall call, long created) => throw new NotSupportedException();
}
