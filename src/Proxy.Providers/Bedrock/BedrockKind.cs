using Proxy.Config;
using Proxy.Providers.Bedrock.Credentials;
using Proxy.Providers.Bedrock.SigV4;

namespace Proxy.Providers.Bedrock;

/// <summary>
/// "bedrock": AWS Bedrock's Converse API in one region, signed with SigV4 from static keys, web identity (IRSA) or
/// container credentials, or called with a Bedrock API key.
/// </summary>
public sealed class BedrockKind(Func<string, string?>? environment = null, TimeProvider? time = null) : IProviderKind
{
    /// <summary>
    /// Stands for "https://bedrock-runtime.{region}.amazonaws.com" (the endpoint follows the region field): the loader
    /// needs a default, and no real endpoint is region-less. A base_url in the config replaces it.
    /// </summary>
    internal static readonly Uri RegionalEndpoint = new("https://bedrock-runtime.amazonaws.com");

    /// <summary>SigV4 signing name of bedrock-runtime (botocore's service model: signingName "bedrock").</summary>
    public const string SigningName = "bedrock";

    private readonly Func<string, string?> _environment = environment ?? Environment.GetEnvironmentVariable;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public string Type => "bedrock";

    public Uri? DefaultBaseUrl => RegionalEndpoint;

    public bool UsesNetwork => true;

    public IReadOnlyCollection<string> ExtraFields => BedrockSettings.Fields;

    public void Validate(ProviderSettings settings, Action<string, string> error)
    {
        var bedrock = BedrockSettings.Read(settings, error);
        if (!string.IsNullOrEmpty(settings.ApiKey)) return;
        if (CredentialChain.Describe(bedrock, _environment, out var missing) is null) error("access_key_id", missing!);
    }

    public ProviderAdapter CreateAdapter(ProviderSettings settings)
    {
        var bedrock = BedrockSettings.Read(settings, null);
        var endpoint = settings.BaseUrl is null || settings.BaseUrl == RegionalEndpoint
            ? new Uri($"https://bedrock-runtime.{bedrock.Region}.amazonaws.com")
            : settings.BaseUrl;
        var transport = UpstreamTransport.CreateHandler(settings);
        if (!string.IsNullOrEmpty(settings.ApiKey))
            return new BedrockAdapter(settings, new HttpMessageInvoker(new BedrockHandler(transport), disposeHandler: true), endpoint);
        var credentials = CredentialChain.Create(bedrock, _environment, settings.HttpProxy);
        var signer = new SigV4Handler(credentials, bedrock.Region, SigningName, _time, transport);
        return new BedrockAdapter(settings, new HttpMessageInvoker(new BedrockHandler(signer), disposeHandler: true), endpoint, credentials as IDisposable);
    }
}
