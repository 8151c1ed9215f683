using System.Text;
using Proxy.ClientApis.OpenAiResponses;
using Proxy.Providers;

namespace Proxy.Core.Tests.ClientApis.OpenAiResponses;

public class ResponseRequestFactsTests
{
    [Fact]
    public void Reads_WhatTheAnswerEchoes_AsRawJson()
    {
        var facts = ResponseRequestFacts.Read("""
            {"input":[{"role":"user","content":"hi"}],"model":"claude-sonnet","instructions":"Be \"brief\".","previous_response_id":"resp_1",
             "store":false,"stream":true,"metadata":{"k":"v"},"tools":[{"type":"function","name":"f"}],"tool_choice":"none",
             "parallel_tool_calls":false,"max_output_tokens":50,"temperature":0.5,"top_p":1}
            """u8);

        Assert.Equal("\"claude-sonnet\"", Encoding.UTF8.GetString(facts.Model!));
        Assert.Equal("\"Be \\\"brief\\\".\"", Encoding.UTF8.GetString(facts.Instructions!));
        Assert.Equal("resp_1", facts.PreviousResponseId);
        Assert.False(facts.Store);
        Assert.True(facts.Stream);
        Assert.Equal("""{"k":"v"}""", Encoding.UTF8.GetString(facts.Metadata!));
        Assert.Equal("""[{"type":"function","name":"f"}]""", Encoding.UTF8.GetString(facts.Tools!));
        Assert.Equal("\"none\"", Encoding.UTF8.GetString(facts.ToolChoice!));
        Assert.False(facts.ParallelToolCalls);
        Assert.Equal("50", Encoding.UTF8.GetString(facts.MaxOutputTokens!));
        Assert.Equal("0.5", Encoding.UTF8.GetString(facts.Temperature!));
        Assert.Equal("1", Encoding.UTF8.GetString(facts.TopP!));
    }

    [Fact]
    public void AbsentOrNull_GivesOpenAisDefaults()
    {
        var facts = ResponseRequestFacts.Read("""{"model":"m","input":"hi","store":null,"instructions":null,"previous_response_id":null}"""u8);

        Assert.True(facts.Store);
        Assert.False(facts.Stream);
        Assert.True(facts.ParallelToolCalls);
        Assert.Null(facts.Instructions);
        Assert.Null(facts.PreviousResponseId);
        Assert.Null(facts.Tools);
    }

    [Theory]
    [InlineData("""{"store":"yes"}""", "store")]
    [InlineData("""{"previous_response_id":7}""", "previous_response_id")]
    [InlineData("""{"model":["m"]}""", "model")]
    [InlineData("""[1]""", null)]
    [InlineData("""{"model":""", null)]
    public void WrongTypes_AreRefused(string body, string? param)
    {
        var refused = Assert.Throws<CallRejectedException>(() => ResponseRequestFacts.Read(Encoding.UTF8.GetBytes(body)));

        Assert.Equal(CallRejectedException.InvalidCode, refused.Failure.Code);
        Assert.Equal(param, refused.Param);
    }

    [Theory]
    [InlineData("req_0123abcd", "resp_0123abcd")]
    [InlineData("client-id_7", "resp_client-id_7")]
    [InlineData("a/b\"c", "resp_a_b_c")]
    public void ResponseIds_ComeFromTheRequestId_SafeForAPath(string requestId, string responseId) =>
        Assert.Equal(responseId, ResponseIds.ResponseId(requestId));
}
