using System.Text;
using System.Text.Json;
using BatchAspire.Submitter.Submitting;

namespace BatchAspire.Submitter.Tests;

/// <summary>The splice that gives an openai or azure provider its own model name in each line (docs/providers.md).</summary>
public sealed class LineModelRewriterTests
{
    private static string Rewrite(string line, string model) =>
        Encoding.UTF8.GetString(new LineModelRewriter(model).Rewrite(Encoding.UTF8.GetBytes(line)).Span);

    [Theory]
    [InlineData("""{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-5-nano","messages":[{"role":"user","content":"Hi"}]}}""")]
    [InlineData("""{"body":{"messages":[{"role":"user","content":"say \"model\":\"x\"","model":"inner"}],"max_tokens":5,  "model" : "gpt-5-nano" },"custom_id":"a","model":"top","url":"/v1/chat/completions","method":"POST"}""")]
    [InlineData("""{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-\u0035-nano","messages":[]}}""")]
    public void OnlyTheBodysModelValueChangesEveryOtherByteStaysAsWritten(string line)
    {
        var rewritten = Rewrite(line, "contoso-batch");

        Assert.True(LineModelRewriter.TryFindModel(Encoding.UTF8.GetBytes(line), out var start, out var length));
        Assert.Equal(line[..start] + "\"contoso-batch\"" + line[(start + length)..], rewritten);
        using var document = JsonDocument.Parse(rewritten);
        Assert.Equal("contoso-batch", document.RootElement.GetProperty("body").GetProperty("model").GetString());
    }

    [Fact]
    public void ANameThatNeedsEscapingIsWrittenAsAJsonStringAndALeadingBomIsDropped()
    {
        var rewritten = Rewrite("\uFEFF" + """{"body":{"model":"m"},"custom_id":"a"}""", "dep\"loy/ment");

        Assert.Equal("""{"body":{"model":"dep\u0022loy/ment"},"custom_id":"a"}""", rewritten);
        using var document = JsonDocument.Parse(rewritten);
        Assert.Equal("dep\"loy/ment", document.RootElement.GetProperty("body").GetProperty("model").GetString());
    }

    [Theory]
    [InlineData("""{"custom_id":"a","body":{"messages":[]}}""")]
    [InlineData("""{"custom_id":"a","body":{"model":null}}""")]
    [InlineData("""{"custom_id":"a","model":"top"}""")]
    [InlineData("""not json""")]
    public void ALineWithoutAStringBodyModelGoesOutAsItIs(string line) =>
        Assert.Equal(line, Rewrite(line, "contoso-batch"));

    [Fact]
    public void ALongerLineThanTheBufferIsRewrittenWhole()
    {
        var line = PipelineJsonl.Request(7, padding: 20_000);

        var rewritten = Rewrite(line, "contoso-batch");

        Assert.Equal(line.Replace("\"model\":\"gpt-5-nano\"", "\"model\":\"contoso-batch\"", StringComparison.Ordinal), rewritten);
    }

    [Fact]
    public void GrowthIsTheExtraBytesOfTheEncodedName()
    {
        Assert.Equal(3, LineModelRewriter.Growth("gpt-5-nano", "gpt-5-nano-eu"));
        Assert.Equal(0, LineModelRewriter.Growth("gpt-5-nano", "dep"));
        Assert.Equal(7, LineModelRewriter.Growth("m", "m\"x"));   // the quote is written as \u0022
    }
}
