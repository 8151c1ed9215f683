namespace Proxy.Pricing;

/// <summary>
/// Public list prices in USD per million tokens (input, output, cached input) of common models of every supported
/// provider, as published by the providers in 2025. Contracts, batch and regional prices differ: override any entry
/// (or add one) under pricing: in the config. Azure OpenAI and Vertex/Bedrock hosts of the same model use the same
/// names and are priced alike; long-context tiers are not modelled (the base tier is used).
/// </summary>
internal static class BuiltInPrices
{
    public static readonly Dictionary<string, ModelPrice> Table = new(StringComparer.OrdinalIgnoreCase)
    {
        // OpenAI (and Azure OpenAI deployments named after the model)
        ["gpt-5"] = new(1.25, 10.00, 0.125),
        ["gpt-5-mini"] = new(0.25, 2.00, 0.025),
        ["gpt-5-nano"] = new(0.05, 0.40, 0.005),
        ["gpt-4.1"] = new(2.00, 8.00, 0.50),
        ["gpt-4.1-mini"] = new(0.40, 1.60, 0.10),
        ["gpt-4.1-nano"] = new(0.10, 0.40, 0.025),
        ["gpt-4o"] = new(2.50, 10.00, 1.25),
        ["gpt-4o-mini"] = new(0.15, 0.60, 0.075),
        ["o3"] = new(2.00, 8.00, 0.50),
        ["o3-mini"] = new(1.10, 4.40, 0.55),
        ["o4-mini"] = new(1.10, 4.40, 0.275),
        ["o1"] = new(15.00, 60.00, 7.50),
        ["o1-mini"] = new(1.10, 4.40, 0.55),
        ["text-embedding-3-small"] = new(0.02, 0),
        ["text-embedding-3-large"] = new(0.13, 0),
        ["text-embedding-ada-002"] = new(0.10, 0),

        // Anthropic (API and Vertex names; cached = cache reads)
        ["claude-opus-4-1"] = new(15.00, 75.00, 1.50, 18.75),
        ["claude-opus-4"] = new(15.00, 75.00, 1.50, 18.75),
        ["claude-sonnet-4-5"] = new(3.00, 15.00, 0.30, 3.75),
        ["claude-sonnet-4"] = new(3.00, 15.00, 0.30, 3.75),
        ["claude-3-7-sonnet"] = new(3.00, 15.00, 0.30, 3.75),
        ["claude-3-5-sonnet"] = new(3.00, 15.00, 0.30, 3.75),
        ["claude-haiku-4-5"] = new(1.00, 5.00, 0.10, 1.25),
        ["claude-3-5-haiku"] = new(0.80, 4.00, 0.08, 1.00),
        ["claude-3-haiku"] = new(0.25, 1.25, 0.03, 0.31),

        // Bedrock model ids (cross-region profiles "us." etc. are matched without their prefix)
        ["anthropic.claude-opus-4-1"] = new(15.00, 75.00, 1.50, 18.75),
        ["anthropic.claude-opus-4"] = new(15.00, 75.00, 1.50, 18.75),
        ["anthropic.claude-sonnet-4-5"] = new(3.00, 15.00, 0.30, 3.75),
        ["anthropic.claude-sonnet-4"] = new(3.00, 15.00, 0.30, 3.75),
        ["anthropic.claude-3-7-sonnet"] = new(3.00, 15.00, 0.30, 3.75),
        ["anthropic.claude-3-5-sonnet"] = new(3.00, 15.00, 0.30, 3.75),
        ["anthropic.claude-haiku-4-5"] = new(1.00, 5.00, 0.10, 1.25),
        ["anthropic.claude-3-5-haiku"] = new(0.80, 4.00, 0.08, 1.00),
        ["anthropic.claude-3-haiku"] = new(0.25, 1.25, 0.03, 0.31),
        ["amazon.nova-premier"] = new(2.50, 12.50, 0.625),
        ["amazon.nova-pro"] = new(0.80, 3.20, 0.20),
        ["amazon.nova-lite"] = new(0.06, 0.24, 0.015),
        ["amazon.nova-micro"] = new(0.035, 0.14, 0.00875),
        ["meta.llama3-3-70b-instruct"] = new(0.72, 0.72),
        ["meta.llama4-maverick-17b-instruct"] = new(0.24, 0.97),
        ["mistral.mistral-large-2407"] = new(2.00, 6.00),

        // Google Gemini (Gemini API and Vertex AI; prompts up to 200k tokens for 2.5 Pro)
        ["gemini-2.5-pro"] = new(1.25, 10.00, 0.125),
        ["gemini-2.5-flash"] = new(0.30, 2.50, 0.03),
        ["gemini-2.5-flash-lite"] = new(0.10, 0.40, 0.01),
        ["gemini-2.0-flash"] = new(0.10, 0.40, 0.025),
        ["gemini-2.0-flash-lite"] = new(0.075, 0.30),
        ["gemini-1.5-pro"] = new(1.25, 5.00, 0.3125),
        ["gemini-1.5-flash"] = new(0.075, 0.30, 0.01875),
        ["text-embedding-004"] = new(0.025, 0),
        ["gemini-embedding-001"] = new(0.15, 0),
    };
}
