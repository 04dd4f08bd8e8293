using System.Text;
using BatchAspire.Core.Results;

namespace BatchAspire.Core.Tests.Results;

public sealed class ResultLineTests
{
    [Theory]
    [InlineData(200, null, false, ResultOutcome.Success)]
    [InlineData(429, null, false, ResultOutcome.Transient)]
    [InlineData(500, null, false, ResultOutcome.Transient)]
    [InlineData(503, null, false, ResultOutcome.Transient)]
    [InlineData(400, null, false, ResultOutcome.Permanent)]
    [InlineData(404, null, false, ResultOutcome.Permanent)]
    [InlineData(0, "batch_expired", false, ResultOutcome.Transient)]
    [InlineData(0, "batch_cancelled", false, ResultOutcome.Transient)]
    [InlineData(0, "batch_cancelled", true, ResultOutcome.Permanent)]
    [InlineData(0, "invalid_request", false, ResultOutcome.Permanent)]
    public void FailuresSortIntoTransientAndPermanent(int status, string? errorCode, bool userCancelled, ResultOutcome expected)
    {
        var line = status != 0
            ? $$$"""{"id":"batch_req_1","custom_id":"a","response":{"status_code":{{{status}}},"request_id":"req_1","body":{"x":1}},"error":null}"""
            : $$$"""{"id":"batch_req_1","custom_id":"a","response":null,"error":{"code":"{{{errorCode}}}","message":"m"}}""";

        Assert.True(ResultLine.TryParse(Encoding.UTF8.GetBytes(line), out var info));
        Assert.Equal(expected, ResultLine.Classify(info, userCancelled));
    }

    [Fact]
    public void UsageIsReadFromChatAndResponsesBodies()
    {
        var chat = """{"custom_id":"c","response":{"status_code":200,"body":{"id":"x","usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":1}},"choices":[{"message":{"content":"{\"usage\":0}"}}]}},"error":null}""";
        var responses = """{"custom_id":"r","response":{"status_code":200,"body":{"output":[],"usage":{"input_tokens":7,"output_tokens":3,"input_tokens_details":{"cached_tokens":0},"output_tokens_details":{"reasoning_tokens":2}}}},"error":null}""";

        Assert.True(ResultLine.TryParse(Encoding.UTF8.GetBytes(chat), out var c));
        Assert.True(ResultLine.TryParse(Encoding.UTF8.GetBytes(responses), out var r));

        Assert.Equal(new(12, 2, 5, 1), c.Usage);
        Assert.Equal(new(7, 0, 3, 2), r.Usage);
        Assert.Equal("c", c.CustomId);
    }

    [Fact]
    public void ALineWithoutCustomIdOrNotJsonIsNotAResult()
    {
        Assert.False(ResultLine.TryParse("""{"response":null}"""u8, out _));
        Assert.False(ResultLine.TryParse("not json"u8, out _));
    }
}
