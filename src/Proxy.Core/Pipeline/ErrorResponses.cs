using Microsoft.AspNetCore.Http;
using Proxy.Errors;

namespace Proxy.Pipeline;

/// <summary>Writes gateway-made errors to the client in the OpenAI shape.</summary>
public static class ErrorResponses
{
    public static Task WriteAsync(HttpContext ctx, int status, string message, string type, string? param = null, string? code = null)
    {
        var response = ctx.Response;
        if (response.HasStarted) return Task.CompletedTask;
        Prepare(response, status, message, type, param, code);
        return response.BodyWriter.FlushAsync(ctx.RequestAborted).AsTask();
    }

    /// <summary>
    /// As <see cref="WriteAsync"/> (for failure paths), saying whether the answer reached the connection: false when the
    /// client is gone, including when Kestrel had already closed the response, which it reports as a completed flush.
    /// </summary>
    public static async ValueTask<bool> TryWriteAsync(HttpContext ctx, int status, string message, string type, string? param = null, string? code = null)
    {
        var response = ctx.Response;
        if (response.HasStarted) return false;
        Prepare(response, status, message, type, param, code);
        try
        {
            var flush = await response.BodyWriter.FlushAsync(ctx.RequestAborted);
            return !flush.IsCompleted && !flush.IsCanceled;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            return false;
        }
    }

    private static void Prepare(HttpResponse response, int status, string message, string type, string? param, string? code)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        if (status == StatusCodes.Status401Unauthorized) response.Headers.WWWAuthenticate = "Bearer";
        OpenAiError.Write(response.BodyWriter, message, type, param, code);
    }

    public static Task MissingKey(HttpContext ctx) => WriteAsync(ctx, 401,
        "You didn't provide an API key. Send your gateway key as 'Authorization: Bearer KEY'.", OpenAiError.Authentication, code: "missing_api_key");

    public static Task InvalidKey(HttpContext ctx) => WriteAsync(ctx, 401,
        "Incorrect API key provided. Use a key issued for this gateway ('proxy keys new').", OpenAiError.Authentication, code: "invalid_api_key");
}
