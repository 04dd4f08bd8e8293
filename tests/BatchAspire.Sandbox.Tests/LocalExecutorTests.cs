using System.Text.Json;
using BatchAspire.Sandbox.Executors;

namespace BatchAspire.Sandbox.Tests;

/// <summary>What the local executor answers, called directly (no HTTP): one behaviour per test.</summary>
public sealed class LocalExecutorTests
{
    private static readonly TokenCounter Tokens = new();
    private readonly LocalExecutor _executor = new(Tokens, TimeProvider.System);

    private JsonElement Run(string endpoint, object body, out int status)
    {
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(body));
        var result = _executor.ExecuteAsync(endpoint, document.RootElement, new ExecutionScratch(), default).AsTask().Result;
        status = result.StatusCode;
        using var output = JsonDocument.Parse(result.Body);
        return output.RootElement.Clone();
    }

    private JsonElement Chat(object body) => Run("/v1/chat/completions", body, out _);

    private static string Content(JsonElement completion) =>
        completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;

    [Theory]
    [InlineData("I love this product! It's amazing!", "positive")]
    [InlineData("Terrible experience, would not recommend.", "negative")]
    [InlineData("It's okay, nothing special.", "neutral")]
    [InlineData("Best purchase I've ever made!", "positive")]
    [InlineData("Waste of money.", "negative")]
    [InlineData("The package arrived on Tuesday.", "neutral")]
    [InlineData("Not good at all.", "negative")]
    public void SentimentPromptsGetALabel(string review, string expected)
    {
        var completion = Chat(new
        {
            model = "gpt-5-nano",
            messages = new object[]
            {
                new { role = "system", content = "Classify sentiment as: positive, negative, or neutral" },
                new { role = "user", content = review },
            },
        });
        Assert.Equal(expected, Content(completion));
    }

    [Fact]
    public void ChatCompletionHasTheRealShapeAndTokenCounts()
    {
        var completion = Chat(new { model = "gpt-5-nano", messages = new object[] { new { role = "user", content = "Hello world" } } });
        Assert.Equal("chat.completion", completion.GetProperty("object").GetString());
        Assert.StartsWith("chatcmpl-", completion.GetProperty("id").GetString());
        Assert.Equal("gpt-5-nano", completion.GetProperty("model").GetString());
        Assert.Equal("stop", completion.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("Hello world", Content(completion));   // echo
        var usage = completion.GetProperty("usage");
        Assert.Equal(2, usage.GetProperty("completion_tokens").GetInt32());              // "Hello world" is 2 o200k tokens
        Assert.Equal(3 + 3 + 1 + 2, usage.GetProperty("prompt_tokens").GetInt32());     // priming + message overhead + "user" + text
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + 2, usage.GetProperty("total_tokens").GetInt32());
    }

    [Theory]
    [InlineData("max_tokens")]
    [InlineData("max_completion_tokens")]
    public void TokenLimitTruncatesWithFinishReasonLength(string limit)
    {
        var text = string.Join(' ', Enumerable.Range(0, 50).Select(i => $"word{i}"));
        var body = new Dictionary<string, object> { ["model"] = "m", ["messages"] = new object[] { new { role = "user", content = text } }, [limit] = 5 };
        var completion = Chat(body);
        Assert.Equal("length", completion.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(5, completion.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.StartsWith(Content(completion), text);
        Assert.True(Content(completion).Length < text.Length);
    }

    [Fact]
    public void ImageInputsGetAShortCaption()
    {
        var message = new
        {
            role = "user",
            content = new object[]
            {
                new { type = "text", text = "Write a brief caption for this image." },
                new { type = "image_url", image_url = new { url = "https://example.com/image1.jpg" } },
            },
        };
        var first = Content(Chat(new { model = "gpt-5-nano", messages = new[] { message }, max_tokens = 100 }));
        var again = Content(Chat(new { model = "gpt-5-nano", messages = new[] { message }, max_tokens = 100 }));
        Assert.Equal(first, again);
        Assert.EndsWith(".", first);
        Assert.InRange(first.Split(' ').Length, 3, 12);
    }

    [Theory]
    [InlineData("text-embedding-3-small", null, 1536)]
    [InlineData("text-embedding-3-large", null, 3072)]
    [InlineData("text-embedding-ada-002", null, 1536)]
    [InlineData("text-embedding-3-small", 256, 256)]
    public void EmbeddingsHaveTheModelsDimensionAndUnitLength(string model, int? dimensions, int expected)
    {
        object body = dimensions is null ? new { model, input = new[] { "a", "b" } } : new { model, input = new[] { "a", "b" }, dimensions };
        var result = Run("/v1/embeddings", body, out var status);
        Assert.Equal(200, status);
        Assert.Equal("list", result.GetProperty("object").GetString());
        var data = result.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(2, data.Count);
        var vector = data[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetDouble()).ToList();
        Assert.Equal(expected, vector.Count);
        Assert.InRange(Math.Sqrt(vector.Sum(v => v * v)), 0.999, 1.001);
        Assert.Equal(2, result.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public void EmbeddingsAreDeterministicPerInput()
    {
        string Vector(string input) => Run("/v1/embeddings", new { model = "text-embedding-3-small", input }, out _)
            .GetProperty("data")[0].GetProperty("embedding").GetRawText();
        Assert.Equal(Vector("same text"), Vector("same text"));
        Assert.NotEqual(Vector("same text"), Vector("other text"));
    }

    [Fact]
    public void ModerationFlagsViolentTextAndPassesPoliteText()
    {
        var result = Run("/v1/moderations", new { model = "omni-moderation-latest", input = new[] { "I will kill you", "Have a nice day" } }, out _);
        var results = result.GetProperty("results").EnumerateArray().ToList();
        Assert.True(results[0].GetProperty("flagged").GetBoolean());
        Assert.True(results[0].GetProperty("categories").GetProperty("violence").GetBoolean());
        Assert.False(results[1].GetProperty("flagged").GetBoolean());
        Assert.Equal(13, results[1].GetProperty("category_scores").EnumerateObject().Count());
    }

    [Fact]
    public void ATooLargeTokenLimitIsA400WithTheErrorEnvelope()
    {
        var error = Run("/v1/chat/completions", new { model = "m", messages = new[] { new { role = "user", content = "x" } }, max_tokens = 1_000_000 }, out var status);
        Assert.Equal(400, status);
        Assert.Equal("invalid_request_error", error.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("max_tokens", error.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public void ResponsesAndLegacyCompletionsAreAnsweredToo()
    {
        var response = Run("/v1/responses", new { model = "gpt-5-nano", input = "Classify the sentiment: I love it" }, out _);
        Assert.Equal("response", response.GetProperty("object").GetString());
        Assert.Equal("positive", response.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        var completion = Run("/v1/completions", new { model = "gpt-3.5-turbo-instruct", prompt = "Say this" }, out _);
        Assert.Equal("text_completion", completion.GetProperty("object").GetString());
        Assert.Equal("Say this", completion.GetProperty("choices")[0].GetProperty("text").GetString());
    }
}
