namespace Proxy.Functional.Tests.Deploy;

/// <summary>The metric-name scanner the deploy checks rely on: it must find every name and nothing else.</summary>
public sealed class PromQlTests
{
    [Theory]
    [InlineData("""sum by (route, status) (rate(a_total{route=~"$route",x="}{ b_total"}[$__rate_interval]))""", "a_total")]
    [InlineData("""histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m]))) > 0.005""", "h_bucket")]
    [InlineData("""sum(rate(x_total[5m])) by (route) / on (route) group_left (model) y > 1e-9 and z""", "x_total y z")]
    [InlineData("""absent(up{job="llm-gateway"} == 1)""", "up")]
    [InlineData("""time() - ts_seconds offset 1h""", "ts_seconds")]
    [InlineData("""sum without (instance) (m1) unless ignoring(sink) m2 or bool m3""", "m1 m2 m3")]
    [InlineData("""rate (spaced_total [5m:1m]) * ${factor} + $scale * nan""", "spaced_total")]
    [InlineData("""label_replace(lr, "dst", "$1", "src", "(.*)") # comment with name_in_comment""", "lr")]
    public void Selectors_FindEveryMetricName_AndNothingElse(string expr, string names)
    {
        Assert.Equal(names.Split(' '), PromQl.Selectors(expr).Select(s => s.Name));
    }

    [Fact]
    public void Selectors_ReadLabelMatchers()
    {
        var s = Assert.Single(PromQl.Selectors("""increase(c_total{result="dropped", status=~"5..",error_class!="none"}[5m])"""));

        Assert.Equal([("result", "=", "dropped"), ("status", "=~", "5.."), ("error_class", "!=", "none")], s.Matchers);
    }

    [Theory]
    [InlineData("""label_values(llm_gateway_build_info, job)""", "llm_gateway_build_info")]
    [InlineData("""label_values(m_count{job=~"$job",a="b"}, route)""", "m_count")]
    public void VariableSelectors_NameTheMetric_NotTheLabel(string query, string name)
    {
        Assert.Equal([name], PromQl.VariableSelectors(query).Select(s => s.Name));
    }
}
