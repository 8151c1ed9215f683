using System.Net;
using System.Text;

namespace Proxy.Logging.S3.Tests;

/// <summary>Mutates process environment variables, so it runs alone.</summary>
[CollectionDefinition(nameof(EnvironmentCollection), DisableParallelization = true)]
public sealed class EnvironmentCollection;

/// <summary>
/// The default credential chain with web identity (EKS IRSA): AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN make the SDK
/// call STS AssumeRoleWithWebIdentity (here a fake STS on loopback via AWS_ENDPOINT_URL_STS) through the STS client
/// factory the sink registers for Native AOT, and the returned keys sign the upload to s3rver.
/// </summary>
[Collection(nameof(EnvironmentCollection))]
public sealed class WebIdentityTests
{
    [Fact]
    public async Task Web_identity_credentials_come_from_sts_through_the_registered_factory()
    {
        using var s3 = S3rver.Start();
        using var sts = new HttpListener();
        var port = FreePort();
        sts.Prefixes.Add($"http://127.0.0.1:{port}/");
        sts.Start();
        string? stsRequest = null;
        var stsLoop = Task.Run(async () =>
        {
            var ctx = await sts.GetContextAsync();
            using (var reader = new StreamReader(ctx.Request.InputStream))
            {
                stsRequest = await reader.ReadToEndAsync();
            }

            var xml = Encoding.UTF8.GetBytes(
                "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult>" +
                "<Credentials><AccessKeyId>S3RVER</AccessKeyId><SecretAccessKey>S3RVER</SecretAccessKey><SessionToken>fake-session</SessionToken>" +
                "<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><SubjectFromWebIdentityToken>sub</SubjectFromWebIdentityToken>" +
                "<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/logs/s</Arn><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId></AssumedRoleUser>" +
                "</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>");
            ctx.Response.ContentType = "text/xml";
            await ctx.Response.OutputStream.WriteAsync(xml);
            ctx.Response.Close();
        });

        var tokenFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(tokenFile, "eyJhbGciOiJub25lIn0.e30.");
        var env = new Dictionary<string, string?>
        {
            ["AWS_ACCESS_KEY_ID"] = null,
            ["AWS_SECRET_ACCESS_KEY"] = null,
            ["AWS_SESSION_TOKEN"] = null,
            ["AWS_PROFILE"] = null,
            ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/credentials",
            ["AWS_CONFIG_FILE"] = "/nonexistent/config",
            ["AWS_REGION"] = "us-east-1",
            ["AWS_EC2_METADATA_DISABLED"] = "true",
            ["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile,
            ["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/logs",
            ["AWS_ENDPOINT_URL_STS"] = $"http://127.0.0.1:{port}",
        };
        var saved = env.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var (k, v) in env)
            {
                Environment.SetEnvironmentVariable(k, v);
            }

            var options = s3.Options();
            options.AccessKeyId = null;
            options.SecretAccessKey = null;
            var before = S3LogSink.StsClientsCreated;
            using var sink = new S3LogSink(options);
            var body = new byte[] { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0 }; // empty gzip
            await sink.UploadAsync("wi/one.jsonl.gz", body, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
            await stsLoop.WaitAsync(TimeSpan.FromSeconds(5));

            Assert.Contains("Action=AssumeRoleWithWebIdentity", stsRequest, StringComparison.Ordinal);
            Assert.Contains("WebIdentityToken=eyJhbGciOiJub25lIn0.e30.", stsRequest, StringComparison.Ordinal);
            Assert.True(S3LogSink.StsClientsCreated > before, "the STS client did not come from the registered (AOT-safe) factory");
            using var client = s3.Client();
            using var got = await client.GetObjectAsync(S3rver.Bucket, "wi/one.jsonl.gz");
            Assert.Equal(body.Length, got.ContentLength);
        }
        finally
        {
            foreach (var (k, v) in saved)
            {
                Environment.SetEnvironmentVariable(k, v);
            }

            sts.Close(); // not Stop(): Stop then Dispose re-binds the port on the second unregister
            File.Delete(tokenFile);
        }
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
