using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BatchAspire.Core.Results;
using BatchAspire.Providers.Translation;

namespace BatchAspire.Providers.Tests.Translation;

public sealed class AnthropicResultTranslatorTests
{
    private const long Created = 1_765_000_000;

    private static (TranslatedResult Result, string Line) Translate(string anthropicLine, string? customId = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        TranslatedResult result;
        using (var writer = new Utf8JsonWriter(buffer))
        {
            result = AnthropicResultTranslator.Translate(Encoding.UTF8.GetBytes(anthropicLine), writer, Created, customId);
        }
        return (result, Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static string Succeeded(string stopReason, string usage = """{"input_tokens":12,"output_tokens":3}""") => """
        {"custom_id":"request-0","result":{"type":"succeeded","message":{"id":"msg_01ABC","type":"message","role":"assistant",
         "model":"claude-haiku-4-5","content":[{"type":"text","text":"posi"},{"type":"text","text":"tive"}],
         "stop_reason":"STOP","stop_sequence":null,"usage":USAGE}}}
        """.ReplaceLineEndings("").Replace("STOP", stopReason).Replace("USAGE", usage);

    private static ResultOutcome Outcome(string openAiLine)
    {
        Assert.True(ResultLine.TryParse(Encoding.UTF8.GetBytes(openAiLine), out var info));
        return ResultLine.Classify(info);
    }

    [Fact]
    public void ASucceededResultBecomesAChatCompletionLineThatResultsReadsAsASuccessWithItsUsage()
    {
        var (result, line) = Translate(Succeeded("end_turn", """{"input_tokens":12,"cache_read_input_tokens":100,"cache_creation_input_tokens":5,"output_tokens":3}"""));

        Assert.Equal(new TranslatedResult("request-0", AnthropicResultKind.Succeeded), result);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"id":"batch_req_01ABC","custom_id":"request-0","response":{"status_code":200,"request_id":"req_01ABC","body":{
              "id":"msg_01ABC","object":"chat.completion","created":1765000000,"model":"claude-haiku-4-5",
              "choices":[{"index":0,"message":{"role":"assistant","content":"positive","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],
              "usage":{"prompt_tokens":117,"completion_tokens":3,"total_tokens":120,"prompt_tokens_details":{"cached_tokens":100},"completion_tokens_details":{"reasoning_tokens":0}}}},
             "error":null}
            """), JsonNode.Parse(line)), line);
        Assert.True(ResultLine.TryParse(Encoding.UTF8.GetBytes(line), out var info));
        Assert.Equal(ResultOutcome.Success, ResultLine.Classify(info));
        Assert.Equal((117L, 100L, 3L), (info.Usage.InputTokens, info.Usage.CachedTokens, info.Usage.OutputTokens));
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("tool_use", "tool_calls")]
    [InlineData("refusal", "content_filter")]
    [InlineData("pause_turn", "stop")]
    [InlineData("model_context_window_exceeded", "length")]
    public void TheStopReasonMapsToAFinishReason(string stopReason, string finishReason)
    {
        var (_, line) = Translate(Succeeded(stopReason));

        Assert.Equal(finishReason, JsonNode.Parse(line)!["response"]!["body"]!["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("invalid_request_error", 400, ResultOutcome.Permanent)]
    [InlineData("not_found_error", 404, ResultOutcome.Permanent)]
    [InlineData("rate_limit_error", 429, ResultOutcome.Transient)]
    [InlineData("api_error", 500, ResultOutcome.Transient)]
    [InlineData("overloaded_error", 529, ResultOutcome.Transient)]
    [InlineData("a_type_added_later", 500, ResultOutcome.Transient)]
    public void AnErroredResultBecomesAnOpenAIErrorLineRetriedOnlyWhenTheErrorIsTransient(string type, int status, ResultOutcome outcome)
    {
        var (result, line) = Translate("""{"custom_id":"request-3","result":{"type":"errored","error":{"type":"error","error":{"type":"TYPE","message":"max_tokens: Field required"},"request_id":"req_9"}}}""".Replace("TYPE", type));

        Assert.Equal(AnthropicResultKind.Errored, result.Kind);
        var node = JsonNode.Parse(line)!;
        Assert.Equal(status, node["response"]!["status_code"]!.GetValue<int>());
        Assert.Equal("req_9", node["response"]!["request_id"]!.GetValue<string>());
        var error = node["response"]!["body"]!["error"]!;
        Assert.Equal(("max_tokens: Field required", type), (error["message"]!.GetValue<string>(), error["type"]!.GetValue<string>()));
        Assert.Equal(outcome, Outcome(line));
    }

    [Theory]
    [InlineData("expired", AnthropicResultKind.Expired, "batch_expired")]
    [InlineData("canceled", AnthropicResultKind.Canceled, "batch_cancelled")]
    public void ExpiredAndCanceledResultsBecomeTheLinesOpenAIWritesForRequestsNeverRunAndAreRetried(string type, AnthropicResultKind kind, string code)
    {
        var (result, line) = Translate("""{"custom_id":"l5","result":{"type":"TYPE"}}""".Replace("TYPE", type), customId: "review #5");

        Assert.Equal(new TranslatedResult("l5", kind), result);
        var node = JsonNode.Parse(line)!;
        Assert.Equal("review #5", node["custom_id"]!.GetValue<string>());
        Assert.Null(node["response"]);
        Assert.Equal(code, node["error"]!["code"]!.GetValue<string>());
        Assert.Equal(ResultOutcome.Transient, Outcome(line));
        // A cancel the job's own user asked for ends its canceled requests for good, as with OpenAI.
        Assert.True(ResultLine.TryParse(Encoding.UTF8.GetBytes(line), out var info));
        Assert.Equal(kind == AnthropicResultKind.Canceled ? ResultOutcome.Permanent : ResultOutcome.Transient, ResultLine.Classify(info, userCancelled: true));
    }

    [Theory]
    [InlineData("""[1]""")]
    [InlineData("""{"result":{"type":"expired"}}""")]
    [InlineData("""{"custom_id":"a","result":{"type":"something_else"}}""")]
    [InlineData("""{"custom_id":"a","result":{"type":"succeeded","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":"end_turn"}}}""")]
    public void ALineThatIsNotAMessageBatchesResultIsInvalidData(string line)
    {
        var e = Assert.Throws<InvalidDataException>(() => Translate(line));
        Assert.Contains("Message Batches result", e.Message);
    }
}
