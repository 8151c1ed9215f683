using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Metrics;

namespace Proxy.Functional.Tests.Malformed;

/// <summary>One gateway for the whole corpus, its request log flushed every 100 ms so each case can find its record.</summary>
public sealed class MalformedGateway : IAsyncLifetime
{
    private readonly string _logs = Directory.CreateTempSubdirectory("proxy-ft-malformed-").FullName;

    public TestEnv Env { get; private set; } = null!;

    public string LogDirectory => _logs;

    public async Task InitializeAsync() =>
        Env = await TestEnv.StartAsync(url => TestConfig.Standard(url) + $"\nlogs:\n  directory: {_logs}\n  max_age: 100ms\n");

    public async Task DisposeAsync()
    {
        await Env.DisposeAsync();
        Directory.Delete(_logs, recursive: true);
        if (Directory.Exists(_logs + "-spool")) Directory.Delete(_logs + "-spool", recursive: true);
    }
}

/// <summary>
/// Every malformed request is the client's fault: a 4xx in the OpenAI shape with x-request-id (never a 5xx), or no
/// answer when the client left (recorded as 499 client_closed). Its log record and the metrics carry the same status
/// and error class, and nothing reaches the upstream.
/// </summary>
public sealed class MalformedRequestTests(MalformedGateway fixture) : IClassFixture<MalformedGateway>
{
    public static TheoryData<string> Cases => MalformedCorpus.Names;

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task MalformedRequest_IsTheClients_AnsweredRecordedAndCountedAlike(string name)
    {
        var c = MalformedCorpus.Cases[name];
        var gateway = fixture.Env.Gateway;
        var requestId = $"malformed-{name}-{Guid.NewGuid():N}";
        var before = await MetricsTests.ScrapeAsync(gateway);
        int forwarded = fixture.Env.Upstream.Requests.Count;

        var response = await RawHttp.SendAsync(gateway.BaseUrl, c.Request(requestId), c.Ending);

        if (c.Status == 499)
        {
            Assert.Null(response);
        }
        else
        {
            Assert.NotNull(response);
            Assert.True(response.Status == c.Status, $"expected HTTP {c.Status}, got {response.Status}: {response.Body}");
            Assert.Equal("application/json", response.Header("Content-Type"));
            Assert.Equal(requestId, response.Header("x-request-id"));
            Assertions.AssertErrorShape(response.Body, c.ErrorClass, c.Code, c.Param, c.MessageContains);
            if (c.Ending == RawEnding.ReadAnswer && name.StartsWith("chunk-", StringComparison.Ordinal))
                Assert.Equal("close", response.Header("Connection")); // broken framing: the connection cannot carry another request
        }

        var record = await WaitForRecordAsync(requestId);
        Assert.Equal(c.Status, record.GetProperty("status").GetInt32());
        Assert.Equal(c.ErrorClass, record.GetProperty("error_class").GetString());
        Assert.Equal(0, record.GetProperty("attempts").GetInt32());

        var after = await MetricsTests.ScrapeAsync(gateway);
        double Delta(params (string, string)[] labels) => after.Find("llm_gateway_requests_total", labels).Sum(s => s.Value)
            - before.Find("llm_gateway_requests_total", labels).Sum(s => s.Value);
        Assert.Equal(1, Delta());
        Assert.Equal(1, Delta(("route", "other"), ("provider", "none"), ("status", c.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("error_class", c.ErrorClass)));

        Assert.Equal(forwarded, fixture.Env.Upstream.Requests.Count); // nothing reached the upstream
    }

    [Fact]
    public void Corpus_CoversEveryKindOfMalformedRequest()
    {
        var names = MalformedCorpus.Cases.Keys.ToList();
        foreach (var kind in new[] { "utf8-", "escape-", "type-", "json-", "ct-", "chunk-", "gone-" })
            Assert.True(names.Count(n => n.StartsWith(kind, StringComparison.Ordinal)) >= 4, $"few '{kind}' cases");
        Assert.All(MalformedCorpus.Cases.Values, c => Assert.InRange(c.Status, 400, 499));
    }

    /// <summary>The request's record, once its batch is written (every 100 ms here); bounded in time.</summary>
    private async Task<JsonElement> WaitForRecordAsync(string requestId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var found = RequestLogTests.ReadRecords(fixture.LogDirectory).Where(r => r.GetProperty("request_id").GetString() == requestId).ToList();
            if (found.Count > 0)
            {
                Assert.Single(found);
                return found[0];
            }
            Assert.True(DateTime.UtcNow < deadline, $"no request log record for {requestId}");
            await Task.Delay(50);
        }
    }
}
