using System.Text.Json;

namespace Proxy.Providers.Gemini;

/// <summary>
/// JSON Schema (as OpenAI tools and response_format carry it) to Gemini's Schema, a subset of OpenAPI 3.0 that both the
/// Gemini API and Vertex AI accept. Mapped: type (upper case; a type list with "null" becomes nullable, several types
/// become anyOf), nullable, title, description, enum and const (as strings), properties, required (only names that
/// are properties), items, anyOf and oneOf (as anyOf; a null alternative becomes nullable), min/max items, length,
/// properties and value, pattern, default, example, and format where Gemini documents it (date-time and enum for
/// strings, float/double, int32/int64). Local $ref (#/$defs/..., #/definitions/...) and one-element allOf are inlined.
/// Dropped, because Gemini rejects or ignores them: $schema, $id, $defs, definitions, additionalProperties,
/// patternProperties, not, if/then/else, exclusiveMinimum/Maximum, multipleOf, uniqueItems, examples, readOnly,
/// writeOnly, deprecated, every other format, and all but the first schema of a longer allOf.
/// </summary>
internal static class GeminiSchema
{
    /// <summary>Deeper than this (a recursive $ref), a schema is cut to a bare OBJECT.</summary>
    private const int MaxDepth = 24;

    public static void Write(JsonElement schema, Utf8JsonWriter w) => Write(schema, schema, w, 0, default, isRoot: true);

    /// <summary>True for an object schema with no properties: Gemini refuses those as function parameters, so they are left out.</summary>
    public static bool IsEmptyObject(JsonElement s) =>
        s.ValueKind != JsonValueKind.Object
        || (!s.TryGetProperty("$ref", out _) && !s.TryGetProperty("anyOf", out _) && !s.TryGetProperty("oneOf", out _) && !s.TryGetProperty("allOf", out _)
            && (!s.TryGetProperty("properties", out var p) || p.ValueKind != JsonValueKind.Object || !p.EnumerateObject().Any()));

    /// <summary>What a referring schema adds to the one it stands for.</summary>
    private readonly record struct Outer(string? Description, bool Nullable);

    private static void Write(JsonElement s, JsonElement root, Utf8JsonWriter w, int depth, Outer outer, bool isRoot = false)
    {
        if (s.ValueKind != JsonValueKind.Object || depth > MaxDepth)
        {
            w.WriteStartObject();
            if (depth > MaxDepth) w.WriteString("type"u8, "OBJECT");
            WriteOuter(w, outer.Description, outer.Nullable);
            w.WriteEndObject();
            return;
        }

        var description = outer.Description ?? String(s, "description");
        bool nullable = outer.Nullable || (s.TryGetProperty("nullable", out var n) && n.ValueKind == JsonValueKind.True);

        if (s.TryGetProperty("$ref", out var reference) && reference.ValueKind == JsonValueKind.String && Resolve(root, reference.GetString()!) is { } target)
        {
            Write(target, root, w, depth + 1, new Outer(description, nullable), isRoot);
            return;
        }
        if (s.TryGetProperty("allOf", out var allOf) && allOf.ValueKind == JsonValueKind.Array && allOf.GetArrayLength() > 0)
        {
            Write(allOf[0], root, w, depth + 1, new Outer(description, nullable), isRoot);
            return;
        }

        var types = new List<string>(1);
        if (s.TryGetProperty("type", out var type))
        {
            if (type.ValueKind == JsonValueKind.String) AddType(types, type.GetString(), ref nullable);
            else if (type.ValueKind == JsonValueKind.Array)
            {
                foreach (var t in type.EnumerateArray())
                {
                    if (t.ValueKind == JsonValueKind.String) AddType(types, t.GetString(), ref nullable);
                }
            }
        }

        List<JsonElement>? alternatives = null;
        foreach (var key in (ReadOnlySpan<string>)["anyOf", "oneOf"])
        {
            if (!s.TryGetProperty(key, out var list) || list.ValueKind != JsonValueKind.Array) continue;
            foreach (var alt in list.EnumerateArray())
            {
                if (alt.ValueKind == JsonValueKind.Object && alt.TryGetProperty("type", out var at) && at.ValueEquals("null")) nullable = true;
                else (alternatives ??= []).Add(alt);
            }
        }
        // Optional[X] from Pydantic: anyOf [X, null] is X, nullable.
        if (alternatives is { Count: 1 } && types.Count == 0)
        {
            Write(alternatives[0], root, w, depth + 1, new Outer(description, nullable), isRoot);
            return;
        }

        var enumValues = EnumValues(s, ref nullable);
        w.WriteStartObject();
        string? geminiType = null;
        if (alternatives is { Count: > 1 })
        {
            w.WriteStartArray("anyOf"u8);
            foreach (var alt in alternatives) Write(alt, root, w, depth + 1, default);
            w.WriteEndArray();
        }
        else if (types.Count > 1)
        {
            w.WriteStartArray("anyOf"u8);
            foreach (var t in types)
            {
                w.WriteStartObject();
                w.WriteString("type"u8, t);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        else
        {
            geminiType = types.Count == 1 ? types[0] : Infer(s, enumValues, isRoot);
            if (geminiType is not null) w.WriteString("type"u8, geminiType);
        }

        if (enumValues is not null) w.WriteString("format"u8, "enum");
        else if (String(s, "format") is { } format && IsDocumentedFormat(geminiType, format)) w.WriteString("format"u8, format);
        if (String(s, "title") is { } title) w.WriteString("title"u8, title);
        WriteOuter(w, description, nullable);
        if (enumValues is not null)
        {
            w.WriteStartArray("enum"u8);
            foreach (var v in enumValues) w.WriteStringValue(v);
            w.WriteEndArray();
        }

        HashSet<string>? names = null;
        if (s.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object && properties.EnumerateObject().Any())
        {
            names = new HashSet<string>(StringComparer.Ordinal);
            w.WriteStartObject("properties"u8);
            foreach (var p in properties.EnumerateObject())
            {
                names.Add(p.Name);
                w.WritePropertyName(p.Name);
                Write(p.Value, root, w, depth + 1, default);
            }
            w.WriteEndObject();
        }
        if (names is not null && s.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
        {
            // Gemini refuses a required name that is not a property; JSON Schema merely never satisfies it.
            var present = required.EnumerateArray().Where(r => r.ValueKind == JsonValueKind.String && names.Contains(r.GetString()!)).ToList();
            if (present.Count > 0)
            {
                w.WriteStartArray("required"u8);
                foreach (var r in present) w.WriteStringValue(r.GetString());
                w.WriteEndArray();
            }
        }
        if (s.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Object)
        {
            w.WritePropertyName("items"u8);
            Write(items, root, w, depth + 1, default);
        }
        foreach (var key in CopiedNumbers)
        {
            if (s.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number)
            {
                w.WritePropertyName(key);
                v.WriteTo(w);
            }
        }
        if (String(s, "pattern") is { } pattern) w.WriteString("pattern"u8, pattern);
        foreach (var key in (ReadOnlySpan<string>)["default", "example"])
        {
            if (s.TryGetProperty(key, out var v))
            {
                w.WritePropertyName(key);
                v.WriteTo(w);
            }
        }
        w.WriteEndObject();
    }

    private static readonly string[] CopiedNumbers = ["minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties", "minimum", "maximum"];

    private static void WriteOuter(Utf8JsonWriter w, string? description, bool nullable)
    {
        if (description is not null) w.WriteString("description"u8, description);
        if (nullable) w.WriteBoolean("nullable"u8, true);
    }

    private static void AddType(List<string> types, string? jsonType, ref bool nullable)
    {
        var mapped = jsonType switch
        {
            "string" => "STRING",
            "number" => "NUMBER",
            "integer" => "INTEGER",
            "boolean" => "BOOLEAN",
            "array" => "ARRAY",
            "object" => "OBJECT",
            _ => null,
        };
        if (jsonType == "null") nullable = true;
        else if (mapped is not null && !types.Contains(mapped)) types.Add(mapped);
    }

    /// <summary>A schema that gives no type says it through its keywords; function parameters are always an object (Vertex insists).</summary>
    private static string? Infer(JsonElement s, List<string>? enumValues, bool isRoot)
    {
        if (isRoot || s.TryGetProperty("properties", out _)) return "OBJECT";
        if (s.TryGetProperty("items", out _)) return "ARRAY";
        return enumValues is not null ? "STRING" : null;
    }

    /// <summary>Gemini enums are strings; numbers keep their JSON text, and a null member makes the schema nullable.</summary>
    private static List<string>? EnumValues(JsonElement s, ref bool nullable)
    {
        List<string>? values = null;
        if (s.TryGetProperty("enum", out var e) && e.ValueKind == JsonValueKind.Array)
        {
            foreach (var v in e.EnumerateArray())
            {
                if (v.ValueKind == JsonValueKind.Null) nullable = true;
                else if (AsString(v) is { } str) (values ??= []).Add(str);
            }
        }
        else if (s.TryGetProperty("const", out var c) && AsString(c) is { } str)
        {
            values = [str];
        }
        return values;
    }

    private static string? AsString(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Number => v.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    private static bool IsDocumentedFormat(string? type, string format) => type switch
    {
        "STRING" => format is "date-time" or "enum",
        "NUMBER" => format is "float" or "double",
        "INTEGER" => format is "int32" or "int64",
        _ => false,
    };

    private static string? String(JsonElement s, string name) =>
        s.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>A local JSON pointer (#/$defs/Name, #/definitions/Name, or any #/a/b path), or null when it points nowhere.</summary>
    private static JsonElement? Resolve(JsonElement root, string reference)
    {
        if (!reference.StartsWith("#/", StringComparison.Ordinal)) return null;
        var current = root;
        foreach (var raw in reference[2..].Split('/'))
        {
            var token = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(token, out current)) return null;
        }
        return current;
    }
}
