using Microsoft.AspNetCore.Http;
using Proxy.Errors;
using Proxy.Pipeline;

namespace Proxy.Host.Endpoints.Admin;

/// <summary>The admin API's errors, in the same error object the client API uses: message, type, param, code.</summary>
internal static class AdminErrors
{
    public static Task BadRequest(HttpContext ctx, string message, string? param = null, string code = "invalid_request") =>
        ErrorResponses.WriteAsync(ctx, 400, message, OpenAiError.InvalidRequest, param, code);

    public static Task NotFound(HttpContext ctx, string what) =>
        ErrorResponses.WriteAsync(ctx, 404, what, OpenAiError.NotFound, code: "not_found");

    /// <summary>A name that is taken: 400, as every other invalid write, with its own code.</summary>
    public static Task Duplicate(HttpContext ctx, string message, string? param = null) =>
        ErrorResponses.WriteAsync(ctx, 400, message, OpenAiError.InvalidRequest, param, "duplicate_name");

    public static Task Unavailable(HttpContext ctx, string message)
    {
        ctx.Response.Headers.RetryAfter = "5";
        return ErrorResponses.WriteAsync(ctx, 503, message, OpenAiError.Upstream, code: "control_plane_unavailable");
    }

    public static Task Unauthorized(HttpContext ctx, string message) =>
        ErrorResponses.WriteAsync(ctx, 401, message, OpenAiError.Authentication, code: "invalid_admin_key");
}
