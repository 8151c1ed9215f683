using Microsoft.AspNetCore.Http;
using Proxy.ClientApis;
using Proxy.Errors;

namespace Proxy.Pipeline;

/// <summary>Writes gateway-made errors to the client in its API's shape (the OpenAI shape unless another API is named).</summary>
public static class ErrorResponses
{
    public static Task WriteAsync(HttpContext ctx, int status, string message, string type, string? param = null, string? code = null, ClientApi? api = null)
    {
        var response = ctx.Response;
        if (response.HasStarted) return Task.CompletedTask;
        Prepare(response, status, message, type, param, code, api);
        return response.BodyWriter.FlushAsync(ctx.RequestAborted).AsTask();
    }

    /// <summary>
    /// As <see cref="WriteAsync"/> (for failure paths), saying whether the answer reached the connection: false when the
    /// client is gone, including when Kestrel had already closed the response, which it reports as a completed flush.
    /// </summary>
    public static async ValueTask<bool> TryWriteAsync(HttpContext ctx, int status, string message, string type, string? param = null, string? code = null,
        ClientApi? api = null)
    {
        var response = ctx.Response;
        if (response.HasStarted) return false;
        Prepare(response, status, message, type, param, code, api);
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

    private static void Prepare(HttpResponse response, int status, string message, string type, string? param, string? code, ClientApi? api)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        if (status == StatusCodes.Status401Unauthorized) response.Headers.WWWAuthenticate = "Bearer";
        if (api is null) OpenAiError.Write(response.BodyWriter, message, type, param, code);
        else api.WriteError(response.BodyWriter, status, message, type, param, code);
    }

    public static Task MissingKey(HttpContext ctx, ClientApi? api = null) => WriteAsync(ctx, 401,
        "You didn't provide an API key. " + (api ?? ClientApi.OpenAiChat).KeyHint, OpenAiError.Authentication, code: "missing_api_key", api: api);

    public static Task InvalidKey(HttpContext ctx, ClientApi? api = null) => WriteAsync(ctx, 401,
        "Incorrect API key provided. Use a key issued for this gateway ('proxy keys new').", OpenAiError.Authentication, code: "invalid_api_key", api: api);
}
