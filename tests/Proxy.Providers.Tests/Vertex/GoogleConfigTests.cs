using Proxy.Config;
using Proxy.Providers.Gemini;
using Proxy.Providers.Mock;
using Proxy.Providers.Tests.Google;
using Proxy.Providers.Vertex;

namespace Proxy.Providers.Tests.Vertex;

/// <summary>The gemini and vertex provider types in a config file: what they require, what they refuse, with file:line.</summary>
public sealed class GoogleConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gv-cfg-").FullName;
    private readonly TestServiceAccount _account = new("https://oauth2.googleapis.com/token");

    [Fact]
    public void Config_GeminiAndVertex_Load()
    {
        var config = Load($"""
            providers:
              gem:
                type: gemini
                api_key: AIza-test
              vtx:
                type: vertex
                project: my-proj
                region: us-central1
                credentials_file: {_account.Path}
              vtx-gce:
                type: vertex
                project: my-proj
                region: global
                metadata_host: 127.0.0.1:8181
            routes:
              flash: {"{"} provider: gem, model: gemini-2.5-flash {"}"}
            keys: []
            """);

        Assert.Equal(new Uri("https://generativelanguage.googleapis.com/v1beta"), config.Providers["gem"].BaseUrl);
        Assert.Equal("us-central1", config.Providers["vtx"].Extra["region"]);
        Assert.IsType<GeminiAdapter>(config.Providers["vtx-gce"].Adapter);
        foreach (var p in config.Providers.Values) p.Adapter.Dispose();
    }

    [Fact]
    public void Config_Mistakes_AreReportedPerField()
    {
        File.WriteAllText(_account.Path, """{"type":"authorized_user"}""");

        var e = Assert.Throws<ConfigException>(() => Load($"""
            providers:
              gem:
                type: gemini
              vtx:
                type: vertex
                api_key: nope
                region: us central
                publisher: meta
                credentials_file: {_account.Path}
              rel:
                type: vertex
                project: p
                region: r
                credentials_file: keys/sa.json
                metadata_host: http://x/y
            routes:
              a: {"{"} provider: gem {"}"}
            keys: []
            """));

        var messages = e.Errors.Select(x => $"{x.Path}: {x.Reason}").ToList();
        Assert.Contains(messages, m => m.StartsWith("providers.gem.api_key: required for type 'gemini'", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("providers.vtx.project: required", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("providers.vtx.region: 'us central' is not a valid region", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("providers.vtx.publisher: publisher 'meta' is not supported; one of: google", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("providers.vtx.api_key: not used by type 'vertex'", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("providers.vtx.credentials_file: ", StringComparison.Ordinal) && m.Contains("not a service account key", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("providers.rel.credentials_file: 'keys/sa.json' is not an absolute path", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("providers.rel.metadata_host: give either credentials_file or metadata_host", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("providers.rel.metadata_host: 'http://x/y' is not a host", StringComparison.Ordinal));
        Assert.All(e.Errors.Where(x => x.Path.StartsWith("providers.vtx.", StringComparison.Ordinal) && x.Path != "providers.vtx.project"), x => Assert.True(x.Line > 0));
    }

    [Fact]
    public void Config_PublisherAnthropic_LoadsClaudeOnVertex_AndDefaultMaxTokensOnlyThere()
    {
        var config = Load($"""
            providers:
              claude:
                type: vertex
                project: my-proj
                region: us-east5
                publisher: anthropic
                default_max_tokens: 8192
                credentials_file: {_account.Path}
            routes:
              sonnet: {"{"} provider: claude, model: claude-sonnet-4-5@20250929 {"}"}
            keys: []
            """);
        Assert.IsType<AnthropicVertexAdapter>(config.Providers["claude"].Adapter);
        foreach (var p in config.Providers.Values) p.Adapter.Dispose();

        var e = Assert.Throws<ConfigException>(() => Load($"""
            providers:
              gem:
                type: vertex
                project: my-proj
                region: us-central1
                default_max_tokens: 100
                credentials_file: {_account.Path}
              claude:
                type: vertex
                project: my-proj
                region: us-east5
                publisher: anthropic
                default_max_tokens: lots
                credentials_file: {_account.Path}
            routes: {"{"}{"}"}
            keys: []
            """));
        var messages = e.Errors.Select(x => $"{x.Path}: {x.Reason}").ToList();
        Assert.Contains("providers.gem.default_max_tokens: only used with publisher: anthropic", messages);
        Assert.Contains(messages, m => m.StartsWith("providers.claude.default_max_tokens: 'lots' is not a whole number", StringComparison.Ordinal));
    }

    private GatewayConfig Load(string yaml)
    {
        var path = Path.Combine(_dir, "gateway.yaml");
        File.WriteAllText(path, yaml);
        return new ConfigLoader([new MockKind(), new GeminiKind(), new VertexKind()]).Load(path);
    }

    public void Dispose()
    {
        _account.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
