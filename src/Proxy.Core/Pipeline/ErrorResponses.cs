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
        response.StatusCode = status;
        response.ContentType = "application/json";
        if (status == StatusCodes.Status401Unauthorized) response.Headers.WWWAuthenticate = "Bearer";
        OpenAiError.Write(response.BodyWriter, message, type, param, code);
        return response.BodyWriter.FlushAsync(ctx.RequestAborted).AsTask();
    }

    public static Task MissingKey(HttpContext ctx) => WriteAsync(ctx, 401,
        "You didn't provide an API key. Send your gateway key as 'Authorization: Bearer KEY'.", OpenAiError.Authentication, code: "missing_api_key");

    public static Task InvalidKey(HttpContext ctx) => WriteAsync(ctx, 401,
        "Incorrect API key provided. Use a key issued for this gateway ('proxy keys new').", OpenAiError.Authentication, code: "invalid_api_key");
}
