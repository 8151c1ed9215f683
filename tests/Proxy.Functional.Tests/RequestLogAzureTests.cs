using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Logging.Azure;
using Proxy.Logging.Azure.Tests;

namespace Proxy.Functional.Tests;

/// <summary>The request log shipped to a real Azure Blob emulator (Azurite) with Shared Key auth.</summary>
public sealed class RequestLogAzureTests(AzuriteFixture fixture) : IClassFixture<AzuriteFixture>
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly Azurite _azurite = fixture.Server;

    [Fact]
    public async Task NRequests_LeaveExactlyNRecordsInTheContainer()
    {
        var container = "logs-" + Guid.NewGuid().ToString("N")[..12];
        using (var create = await SendSigned(HttpMethod.Put, $"{_azurite.Endpoint}/{container}?restype=container"))
            Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var logs = Path.Combine(Path.GetTempPath(), "proxy-ft-azure-" + Guid.NewGuid().ToString("N"));
        await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url) + $$"""

            logs:
              sink: azure
              directory: {{logs}}
              max_records: 6
              azure:
                account: {{Azurite.Account}}
                container: {{container}}
                endpoint: {{_azurite.Endpoint}}
                account_key: {{Azurite.Key}}
            """);

        var sent = new List<string>();
        for (int i = 0; i < 25; i++)
        {
            using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}""");
            await response.Content.ReadAsStringAsync();
            sent.Add(response.Headers.GetValues("x-request-id").Single());
        }
        await env.Gateway.StopAsync();

        using var list = await SendSigned(HttpMethod.Get, $"{_azurite.Endpoint}/{container}?restype=container&comp=list&prefix=requests/");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var names = XDocument.Parse(await list.Content.ReadAsStringAsync()).Descendants("Blob").Select(b => b.Element("Name")!.Value).ToList();
        Assert.NotEmpty(names);
        var ids = new List<string>();
        foreach (var name in names)
        {
            Assert.Matches(@"^requests/\d{4}/\d{2}/\d{2}/\d{2}/.+-\d{8}\.jsonl\.gz$", name);
            using var blob = await SendSigned(HttpMethod.Get, $"{_azurite.Endpoint}/{container}/{string.Join('/', name.Split('/').Select(Uri.EscapeDataString))}");
            Assert.Equal(HttpStatusCode.OK, blob.StatusCode);
            using var gz = new GZipStream(await blob.Content.ReadAsStreamAsync(), CompressionMode.Decompress);
            using var reader = new StreamReader(gz, Encoding.UTF8);
            while (await reader.ReadLineAsync() is { Length: > 0 } line)
                ids.Add(JsonDocument.Parse(line).RootElement.GetProperty("request_id").GetString()!);
        }
        Assert.Equal(sent.Order(), ids.Order());
        if (Directory.Exists(logs + "-spool")) Directory.Delete(logs + "-spool", recursive: true);
    }

    private static Task<HttpResponseMessage> SendSigned(HttpMethod method, string url)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.TryAddWithoutValidation("x-ms-date", DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("x-ms-version", AzureBlobLogSink.ServiceVersion);
        SharedKeySigner.Authorize(request, Azurite.Account, Convert.FromBase64String(Azurite.Key));
        return Http.SendAsync(request);
    }
}
