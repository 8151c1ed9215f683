using static Proxy.Providers.Tests.Mock.MockTestSupport;

namespace Proxy.Providers.Tests.Mock;

/// <summary>The mock range-checks the chat parameters the real API range-checks, and checks the <c>tools</c> shape.</summary>
public class MockParameterTests
{
    [Theory]
    [InlineData("temperature", "2.5", "decimal_above_max_value", "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.")]
    [InlineData("temperature", "200", "decimal_above_max_value", "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 200 instead.")]
    [InlineData("temperature", "-0.5", "decimal_below_min_value", "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got -0.5 instead.")]
    [InlineData("top_p", "1.5", "decimal_above_max_value", "Invalid 'top_p': decimal above maximum value. Expected a value <= 1, but got 1.5 instead.")]
    [InlineData("top_p", "-1", "decimal_below_min_value", "Invalid 'top_p': decimal below minimum value. Expected a value >= 0, but got -1 instead.")]
    [InlineData("presence_penalty", "-3", "decimal_below_min_value", "Invalid 'presence_penalty': decimal below minimum value. Expected a value >= -2, but got -3 instead.")]
    [InlineData("presence_penalty", "2.01", "decimal_above_max_value", "Invalid 'presence_penalty': decimal above maximum value. Expected a value <= 2, but got 2.01 instead.")]
    [InlineData("frequency_penalty", "3", "decimal_above_max_value", "Invalid 'frequency_penalty': decimal above maximum value. Expected a value <= 2, but got 3 instead.")]
    [InlineData("frequency_penalty", "-2.5", "decimal_below_min_value", "Invalid 'frequency_penalty': decimal below minimum value. Expected a value >= -2, but got -2.5 instead.")]
    [InlineData("temperature", "1e400", "decimal_above_max_value", "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 1e400 instead.")]
    [InlineData("n", "0", "integer_below_min_value", "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.")]
    [InlineData("n", "-1", "integer_below_min_value", "Invalid 'n': integer below minimum value. Expected a value >= 1, but got -1 instead.")]
    [InlineData("max_tokens", "0", "integer_below_min_value", "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead.")]
    [InlineData("max_completion_tokens", "0", "integer_below_min_value", "Invalid 'max_completion_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead.")]
    [InlineData("max_completion_tokens", "-99999999999999999999", "integer_below_min_value", "Invalid 'max_completion_tokens': integer below minimum value. Expected a value >= 1, but got -99999999999999999999 instead.")]
    public void OutOfRange(string param, string value, string code, string message) =>
        AssertRefused(Chat(Hello, $"\"{param}\":{value}"), message, param, code);

    [Theory]
    [InlineData("temperature", "\"hot\"", "a decimal", "a string")]
    [InlineData("top_p", "{}", "a decimal", "an object")]
    [InlineData("presence_penalty", "[0.5]", "a decimal", "an array")]
    [InlineData("frequency_penalty", "true", "a decimal", "a boolean")]
    [InlineData("n", "\"2\"", "an integer", "a string")]
    [InlineData("n", "1.5", "an integer", "a decimal number")]
    [InlineData("n", "1.0", "an integer", "a decimal number")]
    [InlineData("max_tokens", "\"16\"", "an integer", "a string")]
    [InlineData("max_completion_tokens", "1e2", "an integer", "a decimal number")]
    [InlineData("stream", "\"yes\"", "a boolean", "a string")]
    [InlineData("stream", "1", "a boolean", "an integer")]
    public void WrongType(string param, string value, string expected, string got) =>
        AssertRefused(Chat(Hello, $"\"{param}\":{value}"), $"Invalid type for '{param}': expected {expected}, but got {got} instead.", param, "invalid_type");

    [Theory]
    [InlineData("\"temperature\":0,\"top_p\":0,\"presence_penalty\":-2,\"frequency_penalty\":-2,\"n\":1,\"max_tokens\":1,\"max_completion_tokens\":1")]
    [InlineData("\"temperature\":2,\"top_p\":1,\"presence_penalty\":2,\"frequency_penalty\":2,\"n\":128,\"max_completion_tokens\":99999999999999999999")]
    [InlineData("\"temperature\":null,\"top_p\":null,\"presence_penalty\":null,\"frequency_penalty\":null,\"n\":null,\"max_tokens\":null,\"stream\":null,\"tools\":null")]
    [InlineData("\"temperature\":1.0,\"top_p\":0.95,\"stream\":true,\"stream_options\":{\"include_usage\":true},\"seed\":7,\"user\":\"u\",\"metadata\":{\"k\":\"v\"}")]
    public void Accepted(string parameters) => AssertAccepted(Chat(Hello, parameters));

    [Theory]
    [InlineData("\"none\"", "a string")]
    [InlineData("{\"type\":\"function\"}", "an object")]
    public void ToolsNotAnArray(string tools, string got) =>
        AssertRefused(Chat(Hello, $"\"tools\":{tools}"), $"Invalid type for 'tools': expected an array of objects, but got {got} instead.", "tools", "invalid_type");

    [Fact]
    public void ToolsEmpty() =>
        AssertRefused(Chat(Hello, "\"tools\":[]"), "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.", "tools", "empty_array");

    [Fact]
    public void ToolNotAnObject() =>
        AssertRefused(Chat(Hello, "\"tools\":[\"search\"]"), "Invalid type for 'tools[0]': expected an object, but got a string instead.", "tools[0]", "invalid_type");

    [Theory]
    [InlineData("""{"type":"function"}""")]
    [InlineData("""{"type":"function","function":null}""")]
    // The flat Responses API shape, which Chat Completions refuses.
    [InlineData("""{"type":"function","name":"f","parameters":{"type":"object"}}""")]
    public void FunctionToolWithoutFunction(string tool) =>
        AssertRefused(Chat(Hello, $"\"tools\":[{Function},{tool}]"), "Missing required parameter: 'tools[1].function'.", "tools[1].function", "missing_required_parameter");

    [Fact]
    public void FunctionWithoutName() =>
        AssertRefused(Chat(Hello, Tools("""[{"type":"function","function":{"parameters":{}}}]""")),
            "Missing required parameter: 'tools[0].function.name'.", "tools[0].function.name", "missing_required_parameter");

    [Fact]
    public void FunctionNotAnObject() =>
        AssertRefused(Chat(Hello, Tools("""[{"type":"function","function":"f"}]""")),
            "Invalid type for 'tools[0].function': expected an object, but got a string instead.", "tools[0].function", "invalid_type");

    [Fact]
    public void ToolsAccepted() =>
        AssertAccepted(Chat(Hello, Tools($$$"""[{{{Function}}},{"type":"custom","custom":{"name":"c"}}]""") + ""","tool_choice":"auto","parallel_tool_calls":false"""));

    /// <summary>Of several faults the API names the one its schema checks first, wherever each sits in the body.</summary>
    [Theory]
    [InlineData("""{"model":"mock-gpt","temperature":5}""", "messages")]
    [InlineData("""{"model":"mock-gpt","temperature":5,"messages":"x"}""", "messages")]
    [InlineData("""{"model":"mock-gpt","stream":"y","tools":"x","messages":[{"role":"user","content":"a"}]}""", "tools")]
    [InlineData("""{"model":"mock-gpt","temperature":"hot","n":0,"messages":[{"role":"user","content":"a"}]}""", "n")]
    [InlineData("""{"model":"mock-gpt","n":0,"max_completion_tokens":0,"messages":[{"role":"user","content":"a"}]}""", "max_completion_tokens")]
    [InlineData("""{"model":"mock-gpt","frequency_penalty":9,"top_p":9,"presence_penalty":9,"messages":[{"role":"user","content":"a"}]}""", "top_p")]
    [InlineData("""{"model":"mock-gpt","messages":[{"role":"user"}],"temperature":5}""", "temperature")]
    [InlineData("""{"model":"mock-gpt","messages":[{"role":"tool","content":"x"}],"stream":"y"}""", "stream")]
    public void FaultsAreReportedInTheApisOrder(string body, string param) => Assert.Equal(param, Refusal(body).Param);

    private static string Tools(string tools) => "\"tools\":" + tools;

    private const string Function = """{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}""";
}
