using System.Net;

namespace Proxy.Logging.Azure;

/// <summary>An upload failed. The message names account, container, blob and HTTP status plus the service's
/// <c>x-ms-error-code</c> (never the account key, SAS token or bearer token); the caller spools the batch and
/// retries under the same blob name.</summary>
public sealed class AzureBlobLogSinkException : Exception
{
    public AzureBlobLogSinkException()
    {
        Account = "";
        Container = "";
        BlobName = "";
    }

    public AzureBlobLogSinkException(string message)
        : base(message)
    {
        Account = "";
        Container = "";
        BlobName = "";
    }

    public AzureBlobLogSinkException(string message, Exception innerException)
        : base(message, innerException)
    {
        Account = "";
        Container = "";
        BlobName = "";
    }

    public AzureBlobLogSinkException(string account, string container, string blobName, HttpStatusCode? statusCode, string? errorCode, string message, Exception? innerException)
        : base(message, innerException)
    {
        Account = account;
        Container = container;
        BlobName = blobName;
        StatusCode = statusCode;
        ErrorCode = errorCode;
    }

    public string Account { get; }

    public string Container { get; }

    public string BlobName { get; }

    /// <summary>HTTP status of the attempt; null when no response arrived (connection refused, timeout, token failure).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The <c>x-ms-error-code</c> response header (<c>AuthenticationFailed</c>, <c>ContainerNotFound</c>...), when sent.</summary>
    public string? ErrorCode { get; }
}
