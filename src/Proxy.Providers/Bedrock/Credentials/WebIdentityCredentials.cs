using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.SharedInterfaces;
using Amazon.SecurityToken;

namespace Proxy.Providers.Bedrock.Credentials;

/// <summary>
/// Web identity (EKS IRSA): the projected service-account token, re-read at every refresh because Kubernetes rotates
/// it, is exchanged with STS AssumeRoleWithWebIdentity by the AWS SDK, which caches and refreshes the result.
/// The STS client is made here, not found by the SDK through reflection, so this works under Native AOT without the
/// global registration the S3 log sink relies on, and each provider gets its own region, endpoint and proxy.
/// </summary>
public sealed class WebIdentityCredentials(string tokenFile, string roleArn, string sessionName, string region, Uri? stsEndpoint, Uri? proxy)
    : AssumeRoleWithWebIdentityCredentials(tokenFile, roleArn, sessionName, new AssumeRoleWithWebIdentityCredentialsOptions())
{
    protected override ICoreAmazonSTS CreateClient()
    {
        var config = new AmazonSecurityTokenServiceConfig
        {
            // A refresh should fail in seconds, not hold requests for the SDK's default 100 s.
            Timeout = TimeSpan.FromSeconds(10),
            MaxErrorRetry = 2,
        };
        if (stsEndpoint is not null)
        {
            config.ServiceURL = stsEndpoint.ToString();
            config.AuthenticationRegion = region;
        }
        else
        {
            // The regional endpoint (sts.REGION.amazonaws.com), as AWS recommends over the global one.
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }
        if (proxy is not null) config.SetWebProxy(new WebProxy(proxy));
        // AssumeRoleWithWebIdentity is an unsigned call: the web identity token is the credential.
        return new AmazonSecurityTokenServiceClient(new AnonymousAWSCredentials(), config);
    }
}
