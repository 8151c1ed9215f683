using System.Text;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;
using Proxy.Providers.Bedrock.Credentials;
using Proxy.Providers.Bedrock.SigV4;

namespace Proxy.Providers.Tests.Bedrock;

/// <summary>
/// The gateway's signer against an independent implementation: AWSSDK.Core's AWS4Signer, fed the same bedrock-runtime
/// request the way the SDK's own Bedrock marshaller would (resource path with the model id as a path resource, which
/// the SDK escapes and double-encodes itself). Model ids with ':' and ARNs with '/' are the cases that matter.
/// </summary>
public class SigV4SdkTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 22, 12, 34, 56, TimeSpan.Zero);

    [Theory]
    [InlineData("anthropic.claude-3-5-sonnet-20240620-v1:0", "converse", null)]
    [InlineData("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "converse-stream", null)]
    [InlineData("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0", "converse", null)]
    [InlineData("amazon.nova-pro-v1:0", "converse", "FwoGZXIvYXdzEBYaDH+session/token==")]
    public void Handler_Signature_EqualsAwsSdkSignature(string modelId, string operation, string? sessionToken)
    {
        var credentials = new AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken);
        var body = Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":[{"text":"Hello é ✓"}]}]}""");
        var uri = new Uri($"https://bedrock-runtime.us-east-1.amazonaws.com/model/{Uri.EscapeDataString(modelId)}/{operation}");
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        request.Headers.TryAddWithoutValidation("Accept", "application/json");

        using var handler = new SigV4Handler(new StaticCredentialSource(credentials, "test"), "us-east-1", "bedrock", new FixedTime(At), new HttpClientHandler());
        handler.Sign(request, body, credentials, At);

        var ours = request.Headers.GetValues("Authorization").Single();
        var sdk = SdkAuthorization(modelId, operation, body, credentials, request);
        Assert.Equal(sdk, ours);
        Assert.Contains("SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date" + (sessionToken is null ? "," : ";x-amz-security-token,"), ours,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Handler_ResignedRequest_CarriesOneFreshSignature()
    {
        var credentials = new AwsCredentials("AKIDEXAMPLE", "secret");
        var uri = new Uri("https://bedrock-runtime.eu-west-1.amazonaws.com/model/m/converse");
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent([]) };
        using var handler = new SigV4Handler(new StaticCredentialSource(credentials, "test"), "eu-west-1", "bedrock", new FixedTime(At), new HttpClientHandler());
        handler.Sign(request, [], credentials, At);
        handler.Sign(request, [], credentials, At.AddMinutes(1));
        Assert.Single(request.Headers.GetValues("Authorization"));
        Assert.Equal("20261122T123556Z", request.Headers.GetValues("X-Amz-Date").Single());
    }

    /// <summary>What AWSSDK.Core signs for the same request (its bedrock-runtime marshaller shape).</summary>
    internal static string SdkAuthorization(string modelId, string operation, byte[] body, AwsCredentials credentials, HttpRequestMessage sent)
    {
        var request = new DefaultRequest(new SdkRequest(), "BedrockRuntime")
        {
            HttpMethod = "POST",
            Endpoint = new Uri(sent.RequestUri!.GetLeftPart(UriPartial.Authority)),
            ResourcePath = "/model/{modelId}/" + operation,
            Content = body,
        };
        request.AddPathResource("{modelId}", modelId);
        request.Headers["Content-Type"] = "application/json";
        request.Headers["Accept"] = sent.Headers.GetValues("Accept").Single();
        if (credentials.SessionToken is not null) request.Headers["X-Amz-Security-Token"] = credentials.SessionToken;
        var config = new Amazon.SecurityToken.AmazonSecurityTokenServiceConfig { AuthenticationServiceName = "bedrock", AuthenticationRegion = "us-east-1" };
        var signedAt = DateTime.ParseExact(sent.Headers.GetValues("X-Amz-Date").Single(), "yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal);
        var result = new AWS4Signer().SignRequest(request, config, null, credentials.AccessKeyId, credentials.SecretAccessKey, signedAt);
        return result.ForAuthorizationHeader;
    }

    private sealed class SdkRequest : AmazonWebServiceRequest;
}
