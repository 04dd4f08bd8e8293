using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using BatchAspire.Core.Translation;
using BatchAspire.Providers.MessageBatches;
using BatchAspire.Providers.Translation;

namespace BatchAspire.Providers.Tests.Translation;

public sealed class AnthropicRequestTranslatorTests
{
    private static JsonElement Line(object body, string customId = "request-1", string url = "/v1/chat/completions") =>
        JsonSerializer.SerializeToElement(new { custom_id = customId, method = "POST", url, body });

    private static (bool Ok, JsonNode? Request, string? Error) Translate(JsonElement line, string? model = null, string? customId = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        bool ok;
        string? error;
        using (var writer = new Utf8JsonWriter(buffer))
        {
            ok = AnthropicRequestTranslator.TryTranslate(line, writer, out error, model, customId);
        }
        return (ok, buffer.WrittenCount > 0 ? JsonNode.Parse(buffer.WrittenSpan) : null, error);
    }

    private static void AssertJson(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}\n  actual {actual?.ToJsonString()}");

    [Fact]
    public void SystemMessagesBecomeTheSystemPromptAndRolesLimitsSamplingAndStopCarryOver()
    {
        var line = Line(new
        {
            model = "claude-haiku-4-5",
            messages = new object[]
            {
                new { role = "system", content = "Classify sentiment as: positive, negative, or neutral" },
                new { role = "user", content = "I love it", name = "alice" },
                new { role = "assistant", content = "positive" },
                new { role = "user", content = new object[] { new { type = "text", text = "And this?" } } },
            },
            max_completion_tokens = 10,
            temperature = 0.2,
            top_p = 0.9,
            stop = "\n",
            user = "user-42",
            seed = 7,
            n = 1,
            store = false,
        });

        var (ok, request, error) = Translate(line);

        Assert.True(ok, error);
        AssertJson("""
            {"custom_id":"request-1","params":{"model":"claude-haiku-4-5","max_tokens":10,
             "system":"Classify sentiment as: positive, negative, or neutral",
             "messages":[{"role":"user","content":"I love it"},{"role":"assistant","content":"positive"},
                         {"role":"user","content":[{"type":"text","text":"And this?"}]}],
             "temperature":0.2,"top_p":0.9,"stop_sequences":["\n"],"metadata":{"user_id":"user-42"}}}
            """, request);
    }

    [Fact]
    public void TheTranslationIsARequestTheAnthropicSdkAcceptsAsItsOwn()
    {
        var line = Line(new
        {
            model = "gpt-5-nano",
            messages = new object[] { new { role = "developer", content = "Be brief." }, new { role = "user", content = "Hi" } },
            max_tokens = 20,
            stop = new[] { "END", "STOP" },
        });
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Assert.True(AnthropicRequestTranslator.TryTranslate(line, writer, out var error, model: "claude-sonnet-4-5", customId: "l0"), error);
        }

        var request = AnthropicSdkRequests.ToSdkRequest(buffer.WrittenSpan);

        request.Validate();
        Assert.Equal("l0", request.CustomID);
        Assert.Equal("claude-sonnet-4-5", request.Params.Model.Raw());
        Assert.Equal(20, request.Params.MaxTokens);
        Assert.Equal(["END", "STOP"], request.Params.StopSequences!);
        Assert.Single(request.Params.Messages);
        Assert.True(request.Params.System!.TryPickString(out var system));
        Assert.Equal("Be brief.", system);
    }

    [Fact]
    public void ImagesByUrlAndByBase64DataUrlBecomeImageBlocksAndSeveralSystemMessagesBecomeTextBlocks()
    {
        var line = Line(new
        {
            model = "claude-haiku-4-5",
            messages = new object[]
            {
                new { role = "system", content = "First rule." },
                new { role = "developer", content = new[] { new { type = "text", text = "Second rule." } } },
                new
                {
                    role = "user",
                    content = new object[]
                    {
                        new { type = "text", text = "Caption these." },
                        new { type = "image_url", image_url = new { url = "https://example.com/a.png", detail = "low" } },
                        new { type = "image_url", image_url = new { url = "data:image/JPEG;base64,/9j/4AAQ" } },
                    },
                },
            },
        });

        var (ok, request, error) = Translate(line);

        Assert.True(ok, error);
        AssertJson("""
            {"custom_id":"request-1","params":{"model":"claude-haiku-4-5","max_tokens":4096,
             "system":[{"type":"text","text":"First rule."},{"type":"text","text":"Second rule."}],
             "messages":[{"role":"user","content":[
               {"type":"text","text":"Caption these."},
               {"type":"image","source":{"type":"url","url":"https://example.com/a.png"}},
               {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}}]}]}}
            """, request);
    }

    [Theory]
    [InlineData("""{"max_tokens":50}""", 50)]
    [InlineData("""{"max_completion_tokens":60,"max_tokens":50}""", 60)]
    [InlineData("""{"max_tokens":null}""", AnthropicRequestTranslator.DefaultMaxTokens)]
    [InlineData("""{}""", AnthropicRequestTranslator.DefaultMaxTokens)]
    public void MaxCompletionTokensWinsOverMaxTokensAndTheDefaultFillsInWhenNeitherIsSet(string limits, int expected)
    {
        var body = JsonNode.Parse(limits)!.AsObject();
        body["model"] = "claude-haiku-4-5";
        body["messages"] = JsonNode.Parse("""[{"role":"user","content":"hi"}]""");

        var (ok, request, error) = Translate(Line(body));

        Assert.True(ok, error);
        Assert.Equal(expected, request!["params"]!["max_tokens"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("""{"n":2}""", "body.n: 2 choices were asked for")]
    [InlineData("""{"temperature":1.5}""", "body.temperature: 1.5 is above Anthropic's maximum of 1")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"f"}}]}""", "body.tools: tools are not translated")]
    [InlineData("""{"tool_choice":"required"}""", "body.tool_choice: tools are not translated")]
    [InlineData("""{"response_format":{"type":"json_object"}}""", "body.response_format: JSON mode")]
    [InlineData("""{"logprobs":true}""", "body.logprobs: Anthropic does not return log probabilities")]
    [InlineData("""{"presence_penalty":0.5}""", "body.presence_penalty: Anthropic has no such sampling parameter")]
    [InlineData("""{"stream":true}""", "body.stream: streaming is not available")]
    [InlineData("""{"audio":{"voice":"alloy"}}""", "body.audio: this chat completions parameter has no Anthropic equivalent")]
    [InlineData("""{"max_tokens":0}""", "body.max_tokens: a positive integer is required")]
    [InlineData("""{"messages":[{"role":"user","content":"a"},{"role":"system","content":"late"}]}""", "body.messages[1]: a system message after the conversation has begun")]
    [InlineData("""{"messages":[{"role":"system","content":"only"}]}""", "body.messages: at least one user or assistant message")]
    [InlineData("""{"messages":[{"role":"tool","content":"42","tool_call_id":"c"}]}""", "body.messages[0]: tool messages (tool results) are not translated")]
    [InlineData("""{"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c"}]}]}""", "body.messages[0].tool_calls: tool calls are not translated")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}""", "body.messages[0].content[0]: 'input_audio' parts have no Anthropic equivalent")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/tiff;base64,AAAA"}}]}]}""", "body.messages[0].content[0].image_url.url: media type 'image/tiff' is not one Anthropic accepts")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}""", "body.messages[0].content[0].image_url.url: an http(s) URL or a base64 data URL is required")]
    [InlineData("""{"messages":[{"role":"assistant","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}""", "body.messages[0].content[0]: Anthropic takes images only in user messages")]
    public void ALineThatCannotBeTranslatedIsRefusedWithAMessageNamingTheField(string overrides, string message)
    {
        var body = JsonNode.Parse("""{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}]}""")!.AsObject();
        foreach (var (key, value) in JsonNode.Parse(overrides)!.AsObject()) body[key] = value?.DeepClone();

        var (ok, request, error) = Translate(Line(body));

        Assert.False(ok);
        Assert.Null(request);
        Assert.StartsWith(message, error);
    }

    [Fact]
    public void OnlyChatCompletionLinesWithAnAnthropicCustomIdOrAReplacementCanBeTranslated()
    {
        var body = new { model = "m", messages = new[] { new { role = "user", content = "hi" } } };

        Assert.StartsWith("url: only /v1/chat/completions", Translate(Line(body, url: "/v1/embeddings")).Error);
        Assert.StartsWith("custom_id: 'review #1' is not a valid Anthropic custom_id", Translate(Line(body, customId: "review #1")).Error);
        var (ok, request, _) = Translate(Line(body, customId: "review #1"), customId: "l17");
        Assert.True(ok);
        Assert.Equal("l17", request!["custom_id"]!.GetValue<string>());
    }
}
