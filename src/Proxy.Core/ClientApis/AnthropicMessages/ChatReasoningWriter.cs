using System.Text.Json;
using Proxy.Providers;

namespace Proxy.ClientApis.AnthropicMessages;

/// <summary>
/// Anthropic's thinking and output settings as OpenAI's: how hard to think as reasoning_effort, a JSON schema for the
/// answer as response_format.
/// </summary>
internal static class ChatReasoningWriter
{
    /// <summary>
    /// reasoning_effort from <c>output_config.effort</c> when the client said one (it names a level, as OpenAI does;
    /// "xhigh" and "max" are beyond what OpenAI-shaped providers accept, so "high"), else from the thinking budget.
    /// A budget is a token count and OpenAI has three levels, so the budget picks one: under 4,096 tokens "low", under
    /// 16,384 "medium", more "high". Claude Code's "think" (4,000), "think hard" (10,000) and "ultrathink" (31,999)
    /// land on the three. Adaptive thinking leaves the level to the model, as OpenAI does when none is sent; disabled
    /// thinking sends none (a provider's default may still reason).
    /// </summary>
    public static void WriteEffort(JsonElement thinking, JsonElement outputConfig, Utf8JsonWriter w)
    {
        if (RawJson.IsSet(outputConfig) && outputConfig.TryGetProperty("effort", out var effort) && RawJson.IsSet(effort))
        {
            if (effort.ValueEquals("low"u8) || effort.ValueEquals("medium"u8) || effort.ValueEquals("high"u8)) RawJson.Copy(w, "reasoning_effort"u8, effort);
            else if (effort.ValueEquals("xhigh"u8) || effort.ValueEquals("max"u8)) w.WriteString("reasoning_effort"u8, "high"u8);
            else throw CallRejectedException.Invalid("'output_config.effort' must be 'low', 'medium', 'high', 'xhigh' or 'max'.", "output_config.effort");
            return;
        }
        if (!RawJson.IsSet(thinking)) return;
        if (thinking.ValueKind != JsonValueKind.Object) throw CallRejectedException.Invalid("'thinking' must be an object.", "thinking");
        var type = RawJson.RequireString(thinking, "type", new ParamPath("thinking"));
        if (type.ValueEquals("disabled"u8) || type.ValueEquals("adaptive"u8)) return;
        if (!type.ValueEquals("enabled"u8))
            throw CallRejectedException.Invalid("'thinking.type' must be 'enabled', 'adaptive' or 'disabled'.", "thinking.type");
        if (!thinking.TryGetProperty("budget_tokens", out var budget) || !budget.TryGetInt64(out long tokens))
            throw CallRejectedException.Invalid("'thinking.budget_tokens' must be an integer.", "thinking.budget_tokens");
        w.WriteString("reasoning_effort"u8, tokens < 4096 ? "low"u8 : tokens < 16384 ? "medium"u8 : "high"u8);
    }

    /// <summary>
    /// Structured outputs (<c>output_config.format</c>, or the older beta's top-level <c>output_format</c>) as a
    /// json_schema response_format. Not marked strict: OpenAI's strict mode refuses schemas Anthropic accepts (optional
    /// properties), and an answer that follows the schema is asked for either way.
    /// </summary>
    public static void WriteFormat(JsonElement outputConfig, JsonElement outputFormat, Utf8JsonWriter w)
    {
        string path = "output_format";
        var format = outputFormat;
        if (RawJson.IsSet(outputConfig) && outputConfig.TryGetProperty("format", out var configured) && RawJson.IsSet(configured))
        {
            format = configured;
            path = "output_config.format";
        }
        if (!RawJson.IsSet(format)) return;
        if (format.ValueKind != JsonValueKind.Object || !format.TryGetProperty("type", out var type) || !type.ValueEquals("json_schema"u8))
            throw CallRejectedException.Unsupported($"'{path}' must be a json_schema format.", path + ".type");
        if (!format.TryGetProperty("schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
            throw CallRejectedException.Invalid($"'{path}.schema' must be a JSON schema object.", path + ".schema");
        w.WriteStartObject("response_format"u8);
        w.WriteString("type"u8, "json_schema"u8);
        w.WriteStartObject("json_schema"u8);
        w.WriteString("name"u8, "output"u8);
        RawJson.Copy(w, "schema"u8, schema);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>output_config's fields this translation knows; task_budget is advisory (a countdown shown to Claude) and has no OpenAI equivalent.</summary>
    public static void CheckOutputConfig(JsonElement outputConfig)
    {
        if (!RawJson.IsSet(outputConfig)) return;
        if (outputConfig.ValueKind != JsonValueKind.Object) throw CallRejectedException.Invalid("'output_config' must be an object.", "output_config");
        foreach (var field in outputConfig.EnumerateObject())
        {
            if (field.NameEquals("effort"u8) || field.NameEquals("format"u8) || field.NameEquals("task_budget"u8)) continue;
            throw CallRejectedException.Unsupported($"'output_config.{field.Name}' is not supported on this route's provider.", "output_config." + field.Name);
        }
    }
}
