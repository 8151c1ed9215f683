using Amazon.Runtime;

namespace Proxy.Providers.Bedrock.Credentials;

/// <summary>
/// Temporary credentials the AWS SDK fetches and refreshes (web identity through STS, container credentials). The SDK
/// caches them, refreshes in the background once they are within 15 minutes of expiry while the current ones keep
/// serving, and lets only one refresh run at a time; expired ones block callers until one refresh completes.
/// </summary>
public sealed class RefreshingCredentialSource(RefreshingAWSCredentials sdk, string description) : IAwsCredentialSource, IDisposable
{
    private sealed record Converted(ImmutableCredentials From, AwsCredentials To);

    private Converted? _last;

    public string Description { get; } = description;

    public async ValueTask<AwsCredentials> GetAsync(CancellationToken cancellationToken)
    {
        ImmutableCredentials current;
        try
        {
            current = await sdk.GetCredentialsAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            throw new AwsCredentialsUnavailableException($"{Description}: {Innermost(e)}", e);
        }
        // Same SDK object until the next refresh, so the conversion happens once per refresh, not per request.
        var last = Volatile.Read(ref _last);
        if (last is not null && ReferenceEquals(last.From, current)) return last.To;
        var converted = new AwsCredentials(current.AccessKey, current.SecretKey, current.UseToken ? current.Token : null);
        Volatile.Write(ref _last, new Converted(current, converted));
        return converted;
    }

    public void Dispose() => sdk.Dispose();

    private static string Innermost(Exception e)
    {
        var message = e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!string.IsNullOrEmpty(inner.Message) && !message.Contains(inner.Message, StringComparison.Ordinal)) message += " -> " + inner.Message;
        }
        return message;
    }
}
