using System.Net;
using System.Text;
using Proxy.Providers.Bedrock;
using Proxy.Providers.Bedrock.Credentials;

namespace Proxy.Providers.Tests.Bedrock;

/// <summary>Sets process environment variables (the AWS SDK reads the container ones itself), so it runs alone.</summary>
[CollectionDefinition(nameof(ProcessEnvironment), DisableParallelization = true)]
public sealed class ProcessEnvironment;

/// <summary>
/// ECS task roles and EKS Pod Identity: AWS_CONTAINER_CREDENTIALS_FULL_URI with the authorization token read from
/// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read at each refresh, as Pod Identity rotates it), against a fake
/// credentials endpoint on loopback.
/// </summary>
[Collection(nameof(ProcessEnvironment))]
public sealed class ContainerCredentialsTests
{
    [Fact]
    public async Task ContainerEndpoint_WithTokenFile_GivesSessionCredentials()
    {
        using var listener = new HttpListener();
        int port = FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        string? authorization = null;
        var serve = Task.Run(async () =>
        {
            var ctx = await listener.GetContextAsync();
            authorization = ctx.Request.Headers["Authorization"];
            var body = Encoding.UTF8.GetBytes($$"""
                {"AccessKeyId":"ASIACONTAINER01","SecretAccessKey":"container-secret","Token":"container-session-token",
                 "Expiration":"{{DateTime.UtcNow.AddHours(1):yyyy-MM-ddTHH:mm:ssZ}}","RoleArn":"arn:aws:iam::123456789012:role/task"}
                """);
            ctx.Response.ContentType = "application/json";
            await ctx.Response.OutputStream.WriteAsync(body);
            ctx.Response.Close();
        });
        var tokenFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(tokenFile, "pod-identity-token-1");
        var names = new[] { "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE" };
        var saved = names.ToDictionary(n => n, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var n in names) Environment.SetEnvironmentVariable(n, null);
            Environment.SetEnvironmentVariable("AWS_CONTAINER_CREDENTIALS_FULL_URI", $"http://127.0.0.1:{port}/v1/credentials");
            Environment.SetEnvironmentVariable("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokenFile);
            var settings = new BedrockSettings { Region = "us-east-1" };

            Assert.Equal("container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI)", CredentialChain.Describe(settings, Environment.GetEnvironmentVariable, out _));
            var source = CredentialChain.Create(settings, Environment.GetEnvironmentVariable, null);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var keys = await source.GetAsync(cts.Token);
            await serve.WaitAsync(TimeSpan.FromSeconds(5));

            Assert.Equal(("ASIACONTAINER01", "container-secret", "container-session-token"), (keys.AccessKeyId, keys.SecretAccessKey, keys.SessionToken));
            Assert.Equal("pod-identity-token-1", authorization);
            Assert.Same(keys, await source.GetAsync(cts.Token)); // cached: no second call to the endpoint
            Assert.DoesNotContain("container-secret", keys.ToString(), StringComparison.Ordinal);
            (source as IDisposable)?.Dispose();
        }
        finally
        {
            foreach (var (n, v) in saved) Environment.SetEnvironmentVariable(n, v);
            listener.Close(); // not Stop(): Stop then Dispose re-binds the port on the second unregister
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
