using System.Text;
using Proxy.Config;
using Proxy.Keys;
using Proxy.Providers.Mock;
using Proxy.Providers.OpenAI;

namespace Proxy.Core.Tests;

public class ConfigLoaderTests
{
    internal const string DemoKey = "sk-gw-test-key";
    internal static readonly string DemoHash = KeyHash.Of(DemoKey).ToString();

    private static readonly Dictionary<string, string> Env = new() { ["UPSTREAM_KEY"] = "secret-from-env" };

    internal static GatewayConfig Parse(string yaml, string dir = "/nonexistent") =>
        new ConfigLoader([new OpenAiKind(), new MockKind()]).Parse(Encoding.UTF8.GetBytes(yaml), "gateway.yaml", new SecretResolver(dir, Env.GetValueOrDefault));

    internal static ConfigException Invalid(string yaml) => Assert.Throws<ConfigException>(() => Parse(yaml));

    internal static string Valid => $$"""
        server:
          max_body_bytes: 2MiB
        providers:
          openai:
            type: openai
            api_key: ${UPSTREAM_KEY}
            first_byte_timeout: 30s
            max_connections: 64
          mock:
            type: mock
            completion_tokens: 3
        routes:
          gpt:
            provider: openai
            model: gpt-4o-mini
          fast:
            provider: mock
        keys:
          - id: team-a
            hash: {{DemoHash}}
            routes: [fast]
        """;

    [Fact]
    public void ValidFile_BuildsTheSnapshot()
    {
        var c = Parse(Valid);
        Assert.Equal(2 * 1024 * 1024, c.Server.MaxBodyBytes);
        Assert.Equal("secret-from-env", c.Providers["openai"].ApiKey);
        Assert.Equal(new Uri("https://api.openai.com/v1"), c.Providers["openai"].BaseUrl);
        Assert.Equal(TimeSpan.FromSeconds(30), c.Providers["openai"].FirstByteTimeout);
        Assert.Equal(64, c.Providers["openai"].MaxConnections);
        Assert.Equal(0, c.Providers["mock"].MaxConnections);
        Assert.Equal("gpt-4o-mini", c.Routes["gpt"].Targets[0].UpstreamModel);
        Assert.False(c.Routes["gpt"].Targets[0].SameNameUpstream);
        Assert.True(c.Routes["fast"].Targets[0].SameNameUpstream);
        Assert.Equal("\"gpt-4o-mini\"", Encoding.UTF8.GetString(c.Routes["gpt"].Targets[0].UpstreamModelJson));
        Assert.IsType<OpenAiAdapter>(c.Providers["openai"].Adapter);
        Assert.IsType<MockAdapter>(c.Providers["mock"].Adapter);
    }

    [Fact]
    public void KeyLookup_FindsByHash_AndEnforcesRoutes()
    {
        var c = Parse(Valid);
        var key = c.Keys.Find(DemoKey);
        Assert.NotNull(key);
        Assert.Equal("team-a", key.Id);
        Assert.True(key.MayUse(c.Routes["fast"]));
        Assert.False(key.MayUse(c.Routes["gpt"]));
        Assert.Null(c.Keys.Find("sk-gw-wrong"));
        Assert.Null(c.Keys.Find(""));
    }

    [Fact]
    public void RouteLookupBySpan_FindsConfiguredRoutes()
    {
        var c = Parse(Valid);
        Assert.True(c.RoutesBySpan.TryGetValue("gpt".AsSpan(), out var r));
        Assert.Equal("gpt", r.Name);
        Assert.False(c.RoutesBySpan.TryGetValue("GPT".AsSpan(), out _));
    }

    [Theory]
    [InlineData("providers.openai.base_ur", "unknown field 'base_ur' (did you mean 'base_url'?)", "    base_ur: http://x", "    api_key: ${UPSTREAM_KEY}")]
    [InlineData("providers.openai.type", "unknown provider type 'opneai'", "    type: opneai", "    type: openai")]
    [InlineData("providers.openai.api_key", "environment variable 'NOPE' is not set", "    api_key: ${NOPE}", "    api_key: ${UPSTREAM_KEY}")]
    [InlineData("providers.openai.first_byte_timeout", "is not a duration", "    first_byte_timeout: 30", "    first_byte_timeout: 30s")]
    [InlineData("providers.mock.completion_tokens", "is not a number between 1 and 100000", "    completion_tokens: many", "    completion_tokens: 3")]
    [InlineData("routes.gpt.provider", "unknown provider 'openia'; defined: mock, openai", "    provider: openia", "    provider: openai")]
    [InlineData("keys[0].routes[0]", "unknown route 'slow'", "    routes: [slow]", "    routes: [fast]")]
    [InlineData("server.max_body_bytes", "is not a positive size", "  max_body_bytes: lots", "  max_body_bytes: 2MiB")]
    [InlineData("server.inline_io", "is not true or false", "  max_body_bytes: 2MiB\n  inline_io: maybe", "  max_body_bytes: 2MiB")]
    [InlineData("server.max_concurrent_requests", "is not a number of requests (0 to 10000000), 'auto' (from the open-file limit) or 'unlimited'",
        "  max_body_bytes: 2MiB\n  max_concurrent_requests: lots", "  max_body_bytes: 2MiB")]
    [InlineData("server.max_concurrent_requests", "is not a number of requests", "  max_body_bytes: 2MiB\n  max_concurrent_requests: -1", "  max_body_bytes: 2MiB")]
    [InlineData("server.max_concurrent_requests", "is not a number of requests", "  max_body_bytes: 2MiB\n  max_concurrent_requests: 2.5", "  max_body_bytes: 2MiB")]
    [InlineData("server.max_concurrent_requests", "is not a number of requests", "  max_body_bytes: 2MiB\n  max_concurrent_requests: 20000000", "  max_body_bytes: 2MiB")]
    public void Mistake_IsReportedWithFilePathLineAndReason(string path, string reason, string bad, string good)
    {
        var yaml = Valid.Replace(good, bad, StringComparison.Ordinal);
        Assert.NotEqual(Valid, yaml);
        var e = Invalid(yaml);
        var error = Assert.Single(e.Errors, x => x.Path == path);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.True(error.Line > 0, "the error names its line");
        Assert.Contains($"gateway.yaml:{error.Line}:", e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyPastedInsteadOfHash_SaysSo()
    {
        var e = Invalid(Valid.Replace(DemoHash, "sk-gw-abcdef", StringComparison.Ordinal));
        Assert.Contains("this is a key, not its hash", Assert.Single(e.Errors).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void SyntaxError_NamesLineAndColumn()
    {
        var e = Invalid("providers:\n  a: [unclosed\nroutes: {}\n");
        var error = Assert.Single(e.Errors);
        Assert.Equal("(syntax)", error.Path);
        Assert.True(error.Line >= 2);
    }

    [Fact]
    public void EveryMistake_IsReported_NotJustTheFirst()
    {
        var e = Invalid("""
            providers:
              p: { type: nope }
            routes:
              r: { provider: missing }
            keys:
              - id: k
                hash: sha256:12
            """);
        Assert.True(e.Errors.Count >= 3, e.Message);
        Assert.StartsWith("invalid config (", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyFile_SaysWhatIsNeeded()
    {
        Assert.Contains("empty", Invalid("").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingSections_AreNamed()
    {
        var e = Invalid("server: {}\n");
        Assert.Contains(e.Errors, x => x.Path == "providers");
        Assert.Contains(e.Errors, x => x.Path == "routes");
    }

    [Fact]
    public void DuplicateKeyIdsAndHashes_AreRejected()
    {
        var yaml = Valid + $"\n  - id: team-a\n    hash: {DemoHash}\n";
        var e = Invalid(yaml);
        Assert.Contains(e.Errors, x => x.Reason.Contains("duplicate key id", StringComparison.Ordinal));
        Assert.Contains(e.Errors, x => x.Reason.Contains("duplicate hash", StringComparison.Ordinal));
    }

    [Fact]
    public void OpenAiCompatible_WithBaseUrl_IsAccepted_AndBadUrlIsNot()
    {
        var ok = Parse(Valid.Replace("    api_key: ${UPSTREAM_KEY}", "    base_url: http://127.0.0.1:8000/v1/", StringComparison.Ordinal));
        Assert.Equal(new Uri("http://127.0.0.1:8000/v1"), ok.Providers["openai"].BaseUrl);
        var e = Invalid(Valid.Replace("    api_key: ${UPSTREAM_KEY}", "    base_url: ftp://x", StringComparison.Ordinal));
        Assert.Contains("not an absolute http:// or https:// URL", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reload_WithUnchangedProvider_KeepsItsAdapter_ChangedProviderGetsANewOne()
    {
        var first = Parse(Valid);
        var loader = new ConfigLoader([new OpenAiKind(), new MockKind()]);
        var resolver = new SecretResolver("/", Env.GetValueOrDefault);
        var second = loader.Parse(Encoding.UTF8.GetBytes(Valid.Replace("completion_tokens: 3", "completion_tokens: 4", StringComparison.Ordinal)), "gateway.yaml", resolver, first);
        Assert.Same(first.Providers["openai"].Adapter, second.Providers["openai"].Adapter);
        Assert.NotSame(first.Providers["mock"].Adapter, second.Providers["mock"].Adapter);
    }

    [Fact]
    public void LoadFromDisk_UnchangedFile_ReturnsThePreviousSnapshot()
    {
        var path = Path.Combine(Path.GetTempPath(), $"gw-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, Valid.Replace("${UPSTREAM_KEY}", "literal", StringComparison.Ordinal));
        try
        {
            var loader = new ConfigLoader([new OpenAiKind(), new MockKind()]);
            var first = loader.Load(path);
            Assert.Same(first, loader.Load(path, first));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void FileSavedWithUtf8Bom_LoadsAsWithout_AndErrorsKeepTheirColumns()
    {
        // As Notepad and Visual Studio on Windows save UTF-8: EF BB BF before the first key.
        var path = Path.Combine(Path.GetTempPath(), $"gw-{Guid.NewGuid():N}.yaml");
        var yaml = Valid.Replace("${UPSTREAM_KEY}", "literal", StringComparison.Ordinal);
        File.WriteAllText(path, yaml, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        try
        {
            Assert.Equal(Encoding.UTF8.Preamble.ToArray(), File.ReadAllBytes(path)[..3]);
            var loader = new ConfigLoader([new OpenAiKind(), new MockKind()]);

            var config = loader.Load(path);

            Assert.Equal(["mock", "openai"], config.Providers.Keys.Order(StringComparer.Ordinal));
            Assert.Equal("literal", config.Providers["openai"].ApiKey);
            // The hash is over the bytes on disk, so an unchanged file with a BOM still keeps its snapshot.
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))), config.ContentHash);
            Assert.Same(config, loader.Load(path, config));
        }
        finally
        {
            File.Delete(path);
        }

        var e = Invalid("\uFEFFprovidres: {}\nroutes: {}\nkeys: []\n");
        var error = Assert.Single(e.Errors, x => x.Reason.Contains("providres", StringComparison.Ordinal));
        Assert.Equal((1, 1), (error.Line, error.Column));
        Assert.DoesNotContain('\uFEFF', error.Reason);
    }

    [Fact]
    public void MissingFile_IsAConfigError()
    {
        var e = Assert.Throws<ConfigException>(() => new ConfigLoader([new MockKind()]).Load("/nonexistent/gateway.yaml"));
        Assert.Contains("/nonexistent/gateway.yaml", e.Message, StringComparison.Ordinal);
    }
}
