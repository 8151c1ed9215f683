using static Proxy.Providers.Tests.Mock.MockTestSupport;

namespace Proxy.Providers.Tests.Mock;

/// <summary>The mock refuses the chat <c>messages</c> the real API refuses, with its message, param and code.</summary>
public class MockMessagesTests
{
    private const string Roles = "'system', 'assistant', 'user', 'function', 'tool', and 'developer'";
    private const string NullContent = "Invalid value for 'content': expected a string, got null.";

    [Fact]
    public void Missing() =>
        AssertRefused("""{"model":"mock-gpt"}""", "Missing required parameter: 'messages'.", "messages", "missing_required_parameter");

    [Theory]
    [InlineData("""{"role":"user","content":"hi"}""", "an object")]
    [InlineData("\"hi\"", "a string")]
    [InlineData("null", "null")]
    [InlineData("7", "an integer")]
    [InlineData("1.5", "a decimal number")]
    [InlineData("true", "a boolean")]
    public void NotAnArray(string messages, string got) =>
        AssertRefused(Chat(messages), $"Invalid type for 'messages': expected an array of objects, but got {got} instead.", "messages", "invalid_type");

    [Fact]
    public void Empty() =>
        AssertRefused(Chat("[]"), "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "messages", "empty_array");

    [Theory]
    [InlineData("""["hi"]""", 0, "a string")]
    [InlineData("""[{"role":"user","content":"hi"},7]""", 1, "an integer")]
    [InlineData("""[{"role":"user","content":"hi"},[]]""", 1, "an array")]
    [InlineData("""[null]""", 0, "null")]
    public void ItemNotAnObject(string messages, int index, string got) =>
        AssertRefused(Chat(messages), $"Invalid type for 'messages[{index}]': expected an object, but got {got} instead.", $"messages[{index}]", "invalid_type");

    [Fact]
    public void RoleMissing() =>
        AssertRefused(Chat("""[{"content":"hi"}]"""), "Missing required parameter: 'messages[0].role'.", "messages[0].role", "missing_required_parameter");

    [Theory]
    [InlineData("foo")]
    [InlineData("User")]
    [InlineData("model")]
    public void RoleNotSupported(string role) =>
        AssertRefused(Chat($$"""[{"role":"user","content":"hi"},{"role":"{{role}}","content":"hi"}]"""),
            $"Invalid value: '{role}'. Supported values are: {Roles}.", "messages[1].role", "invalid_value");

    [Fact]
    public void RoleNotAString() =>
        AssertRefused(Chat("""[{"role":5,"content":"hi"}]"""),
            "Invalid type for 'messages[0].role': expected one of 'system', 'assistant', 'user', 'function', 'tool', or 'developer', but got an integer instead.",
            "messages[0].role", "invalid_type");

    [Theory]
    [InlineData("7", "an integer")]
    [InlineData("""{"type":"text","text":"hi"}""", "an object")]
    [InlineData("true", "a boolean")]
    public void ContentOfTheWrongType(string content, string got) =>
        AssertRefused(Chat($$"""[{"role":"user","content":{{content}}}]"""),
            $"Invalid type for 'messages[0].content': expected one of a string or array of objects, but got {got} instead.", "messages[0].content", "invalid_type");

    [Fact]
    public void ContentPartNotAnObject() =>
        AssertRefused(Chat("""[{"role":"user","content":[{"type":"text","text":"a"},"b"]}]"""),
            "Invalid type for 'messages[0].content[1]': expected an object, but got a string instead.", "messages[0].content[1]", "invalid_type");

    [Fact]
    public void ContentPartWithoutType() =>
        AssertRefused(Chat("""[{"role":"user","content":[{"text":"a"}]}]"""),
            "Missing required parameter: 'messages[0].content[0].type'.", "messages[0].content[0].type", "missing_required_parameter");

    [Theory]
    [InlineData("image")]
    [InlineData("tool_result")]
    [InlineData("input_text")]
    public void ContentPartTypeNotSupported(string type) =>
        AssertRefused(Chat($$"""[{"role":"user","content":"hi"},{"role":"user","content":[{"type":"{{type}}","text":"a"}]}]"""),
            $"Invalid value: '{type}'. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', 'audio', and 'file'.",
            "messages[1].content[0].type", "invalid_value");

    [Fact]
    public void ContentPartTypeNotAString() =>
        AssertRefused(Chat("""[{"role":"user","content":[{"type":1}]}]"""),
            "Invalid type for 'messages[0].content[0].type': expected one of 'text', 'image_url', 'input_audio', 'refusal', 'audio', or 'file', but got an integer instead.",
            "messages[0].content[0].type", "invalid_type");

    [Theory]
    [InlineData("""[{"role":"user"}]""", 0)]
    [InlineData("""[{"role":"user","content":null}]""", 0)]
    [InlineData("""[{"role":"system"},{"role":"user","content":"hi"}]""", 0)]
    [InlineData("""[{"role":"user","content":"hi"},{"role":"assistant"}]""", 1)]
    [InlineData("""[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":null}]""", 1)]
    [InlineData("""[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"c1"}]""", 1)]
    [InlineData("""[{"role":"user","content":"hi"},{"role":"function","name":"f","content":null}]""", 1)]
    public void ContentMissingOrNull(string messages, int index) =>
        AssertRefused(Chat(messages), NullContent, $"messages.[{index}].content", null);

    [Theory]
    [InlineData("""{"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]}""")]
    [InlineData("""{"function_call":{"name":"f","arguments":"{}"}}""")]
    [InlineData("""{"refusal":"no"}""")]
    [InlineData("""{"audio":{"id":"a1"}}""")]
    public void StandInsForContent_OnlyOnAnAssistantMessage(string member)
    {
        var fields = member[1..^1];
        AssertAccepted(Chat($$"""[{"role":"user","content":"hi"},{"role":"assistant",{{fields}}}]"""));
        AssertAccepted(Chat($$"""[{"role":"user","content":"hi"},{"role":"assistant","content":null,{{fields}}}]"""));
        AssertRefused(Chat($$"""[{"role":"user","content":"hi"},{"role":"user",{{fields}}}]"""), NullContent, "messages.[1].content", null);
    }

    [Fact]
    public void AssistantToolCallsEmpty() =>
        AssertRefused(Chat("""[{"role":"user","content":"hi"},{"role":"assistant","content":"x","tool_calls":[]}]"""),
            "Invalid 'messages[1].tool_calls': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            "messages[1].tool_calls", "empty_array");

    [Fact]
    public void AssistantToolCallsNotAnArray() =>
        AssertRefused(Chat("""[{"role":"user","content":"hi"},{"role":"assistant","content":"x","tool_calls":"x"}]"""),
            "Invalid type for 'messages[1].tool_calls': expected an array of objects, but got a string instead.", "messages[1].tool_calls", "invalid_type");

    [Fact]
    public void UserToolCallsAreNotChecked() =>
        AssertAccepted(Chat("""[{"role":"user","content":"hi","tool_calls":[]}]"""));

    [Fact]
    public void DeveloperContentMissing() =>
        AssertRefused(Chat("""[{"role":"user","content":"a"},{"role":"developer"}]"""),
            "Missing required parameter: 'messages[1].content'.", "messages[1].content", "missing_required_parameter");

    [Fact]
    public void DeveloperContentNull() =>
        AssertRefused(Chat("""[{"role":"user","content":"a"},{"role":"developer","content":null}]"""),
            "Invalid type for 'messages[1].content': expected one of a string or array of objects, but got null instead.", "messages[1].content", "invalid_type");

    [Fact]
    public void ToolMessageWithoutToolCallId() =>
        AssertRefused(Chat("""[{"role":"user","content":"hi"},{"role":"tool","content":"42"}]"""),
            "Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'.", "messages.[1].tool_call_id", null);

    [Theory]
    [InlineData("""[{"role":"user","content":""}]""")]
    [InlineData("""[{"role":"user","content":[]}]""")]
    [InlineData("""[{"role":"developer","content":"Be terse."},{"role":"system","content":"x"},{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"https://x.invalid/a.png"}}]}]""")]
    [InlineData("""[{"role":"user","content":"weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"w","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"23C"},{"role":"function","name":"w","content":"23C"}]""")]
    [InlineData("""[{"role":"user","content":"hi","name":"ann","unknown_member":{"deep":[1,2,{"x":null}]}}]""")]
    [InlineData("""[{"role":"\u0075ser","content":"escaped role"}]""")]
    public void Accepted(string messages) => AssertAccepted(Chat(messages));

    /// <summary>A missing content is judged after every other check, so a fault at a later message, or elsewhere, is the one reported.</summary>
    [Theory]
    [InlineData("""[{"role":"user"},{"role":"user","content":7}]""", "messages[1].content")]
    [InlineData("""[{"role":"user"},{"role":"bogus","content":"a"}]""", "messages[1].role")]
    public void LaterSchemaFaultBeatsAnEarlierMissingContent(string messages, string param) =>
        Assert.Equal(param, Refusal(Chat(messages)).Param);

    [Fact]
    public void OfTwoLateFaults_TheEarlierMessageIsReported() =>
        Assert.Equal("messages.[0].tool_call_id", Refusal(Chat("""[{"role":"tool","content":"x"},{"role":"user"}]""")).Param);

    [Fact]
    public void RoleIsJudgedBeforeContent_WhateverTheirOrder() =>
        Assert.Equal("messages[0].role", Refusal(Chat("""[{"content":7,"role":"bogus"}]""")).Param);
}
