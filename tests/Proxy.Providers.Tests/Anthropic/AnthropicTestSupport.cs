using System.Text;
using Microsoft.AspNetCore.Http;
using Proxy.Config;
using Proxy.Providers.Anthropic;
using Proxy.Providers.Tests.Common;

namespace Proxy.Providers.Tests.Anthropic;

/// <summary>An Anthropic adapter pointed nowhere (fixture tests never send), with a stopped clock.</summary>
internal static class AnthropicTestSupport
{
    public const string Model = "claude-sonnet-4-5";

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
        return new AnthropicAdapter(settings, new HttpMessageInvoker(new SocketsHttpHandler()), AnthropicSettings.Read(settings, null), FixedTime.At1700000000);
    }

    public static (HttpRequestMessage Request, string Body) Build(string openAiBody, IHeaderDictionary? clientHeaders = null, AnthropicAdapter? adapter = null)
    {
        adapter ??= Adapter();
        var call = Fixture.Call(adapter.Settings, Encoding.UTF8.GetBytes(openAiBody), Model, clientHeaders: clientHeaders);
        var request = adapter.BuildRequest(call);
        return (request, Encoding.UTF8.GetString(Fixture.ContentBytes(request)));
    }

    public static CallRejectedException Refused(string openAiBody) =>
        Assert.Throws<CallRejectedException>(() => Build(openAiBody));
}
