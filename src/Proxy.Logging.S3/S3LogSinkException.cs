using System.Net;

namespace Proxy.Logging.S3;

/// <summary>An upload failed. The message names bucket, key and HTTP status (never credentials); the caller
/// spools the batch and retries under the same key.</summary>
public sealed class S3LogSinkException : Exception
{
    public S3LogSinkException()
    {
        Bucket = "";
        Key = "";
    }

    public S3LogSinkException(string message)
        : base(message)
    {
        Bucket = "";
        Key = "";
    }

    public S3LogSinkException(string message, Exception innerException)
        : base(message, innerException)
    {
        Bucket = "";
        Key = "";
    }

    public S3LogSinkException(string bucket, string key, HttpStatusCode? statusCode, string? errorCode, string message, Exception? innerException)
        : base(message, innerException)
    {
        Bucket = bucket;
        Key = key;
        StatusCode = statusCode;
        ErrorCode = errorCode;
    }

    public string Bucket { get; }

    public string Key { get; }

    /// <summary>HTTP status of the last attempt; null when no response arrived (connection refused, timeout).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>S3 error code such as <c>NoSuchBucket</c> or <c>AccessDenied</c>, when the service sent one.</summary>
    public string? ErrorCode { get; }
}
