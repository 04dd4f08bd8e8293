using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace BatchAspire.Sandbox.Tests.Messages;

/// <summary>The Sandbox's Anthropic Message Batches API over raw HTTP: the wire shapes, the checks at create, paging.</summary>
public sealed class MessageBatchesApiTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ABatchAnswersEveryRequestOnceWithMessagesAndServesTheResultsInAnotherOrder()
    {
        using var api = AnthropicApi.For(sandbox.Host);
        var requests = Enumerable.Range(0, 40).Select(i => AnthropicApi.Request($"req-{i}", $"Echo number {i}")).ToList();

        var created = await api.CreateAsync(requests, Ct);

        Assert.Matches("^msgbatch_[A-Za-z0-9]+$", created.Str("id"));
        Assert.Equal("message_batch", created.Str("type"));
        Assert.Equal("in_progress", created.Str("processing_status"));
        Assert.Equal(40, created.GetProperty("request_counts").Int("processing"));
        Assert.True(created.IsNull("results_url"));
        Assert.True(created.IsNull("ended_at"));
        Assert.True(created.IsNull("archived_at"));
        Assert.True(created.IsNull("cancel_initiated_at"));
        var createdAt = DateTimeOffset.Parse(created.Str("created_at"), CultureInfo.InvariantCulture);
        Assert.Equal(TimeSpan.FromHours(24), DateTimeOffset.Parse(created.Str("expires_at"), CultureInfo.InvariantCulture) - createdAt);

        var ended = await api.WaitEndedAsync(created.Str("id"), Ct);
        var counts = ended.GetProperty("request_counts");
        Assert.Equal((0, 40, 0, 0, 0), (counts.Int("processing"), counts.Int("succeeded"), counts.Int("errored"), counts.Int("canceled"), counts.Int("expired")));
        Assert.Equal($"{sandbox.Host.BaseUrl.AbsoluteUri}/messages/batches/{created.Str("id")}/results", ended.Str("results_url"));
        Assert.True(DateTimeOffset.Parse(ended.Str("ended_at"), CultureInfo.InvariantCulture) >= createdAt.AddSeconds(-1));

        var results = await api.ResultsAsync(created.Str("id"), Ct);
        var ids = results.Select(r => r.Str("custom_id")).ToList();
        Assert.Equal(requests.Count, ids.Count);
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"req-{i}").Order(), ids.Order());
        Assert.NotEqual(Enumerable.Range(0, 40).Select(i => $"req-{i}"), ids);
        var seven = results.Single(r => r.Str("custom_id") == "req-7").GetProperty("result");
        Assert.Equal("succeeded", seven.Str("type"));
        var message = seven.GetProperty("message");
        Assert.Matches("^msg_", message.Str("id"));
        Assert.Equal(("message", "assistant", "claude-sonnet-4-5"), (message.Str("type"), message.Str("role"), message.Str("model")));
        Assert.Equal("text", message.GetProperty("content")[0].Str("type"));
        Assert.Equal("Echo number 7", message.GetProperty("content")[0].Str("text"));
        Assert.Equal("end_turn", message.Str("stop_reason"));
        Assert.True(message.IsNull("stop_sequence"));
        Assert.InRange(message.GetProperty("usage").Int("input_tokens"), 5, 20);
        Assert.Equal(4, message.GetProperty("usage").Int("output_tokens"));   // o200k: "Echo", " number", " ", "7"
    }

    [Fact]
    public async Task SystemPromptsStopSequencesTokenLimitsAndInvalidParamsAreAnsweredAsTheMessagesApiWould()
    {
        using var api = AnthropicApi.For(sandbox.Host);
        object[] requests =
        [
            AnthropicApi.Request("sentiment", "", extra: new
            {
                model = "claude-haiku-4-5",
                max_tokens = 10,
                system = "Classify sentiment as: positive, negative, or neutral",
                messages = new[] { new { role = "user", content = "Terrible experience, would not recommend." } },
            }),
            AnthropicApi.Request("stop", "", extra: new
            {
                model = "claude-haiku-4-5",
                max_tokens = 100,
                stop_sequences = new[] { "STOP", "never" },
                messages = new object[] { new { role = "user", content = new[] { new { type = "text", text = "one two STOP three" } } } },
            }),
            AnthropicApi.Request("short", "a long answer that cannot fit in two tokens", maxTokens: 2),
            AnthropicApi.Request("image", "", extra: new
            {
                model = "claude-haiku-4-5",
                max_tokens = 50,
                messages = new object[]
                {
                    new
                    {
                        role = "user",
                        content = new object[]
                        {
                            new { type = "image", source = new { type = "url", url = "https://example.com/cat.png" } },
                            new { type = "text", text = "Describe the image." },
                        },
                    },
                },
            }),
            AnthropicApi.Request("no-max-tokens", "", extra: new { model = "claude-haiku-4-5", messages = new[] { new { role = "user", content = "hi" } } }),
            AnthropicApi.Request("bad-role", "", extra: new { model = "claude-haiku-4-5", max_tokens = 5, messages = new[] { new { role = "system", content = "hi" } } }),
        ];

        var batch = await api.CreateAsync(requests, Ct);
        var ended = await api.WaitEndedAsync(batch.Str("id"), Ct);
        var results = (await api.ResultsAsync(batch.Str("id"), Ct)).ToDictionary(r => r.Str("custom_id"), r => r.GetProperty("result"));

        Assert.Equal(4, ended.GetProperty("request_counts").Int("succeeded"));
        Assert.Equal(2, ended.GetProperty("request_counts").Int("errored"));
        Assert.Equal("negative", Text(results["sentiment"]));
        Assert.Equal("one two ", Text(results["stop"]));
        Assert.Equal(("stop_sequence", "STOP"), (results["stop"].GetProperty("message").Str("stop_reason"), results["stop"].GetProperty("message").Str("stop_sequence")));
        Assert.Equal("max_tokens", results["short"].GetProperty("message").Str("stop_reason"));
        Assert.Equal(2, results["short"].GetProperty("message").GetProperty("usage").Int("output_tokens"));
        Assert.EndsWith(".", Text(results["image"]));
        Assert.NotEqual("Describe the image.", Text(results["image"]));
        foreach (var (id, field) in new[] { ("no-max-tokens", "max_tokens"), ("bad-role", "messages.0.role") })
        {
            var errored = results[id];
            Assert.Equal("errored", errored.Str("type"));
            Assert.Equal("error", errored.GetProperty("error").Str("type"));
            Assert.Equal("invalid_request_error", errored.GetProperty("error").GetProperty("error").Str("type"));
            Assert.StartsWith(field + ":", errored.GetProperty("error").GetProperty("error").Str("message"));
        }

        static string Text(JsonElement result) => result.GetProperty("message").GetProperty("content")[0].Str("text");
    }

    [Theory]
    [InlineData("""{"requests":[{"custom_id":"has space","params":{}}]}""", "requests.0.custom_id: String should match pattern")]
    [InlineData("""{"requests":[{"custom_id":"a","params":{}},{"custom_id":"a","params":{}}]}""", "requests.1.custom_id: Duplicate custom_id 'a'")]
    [InlineData("""{"requests":[{"custom_id":"a"}]}""", "requests.0.params: Field required")]
    [InlineData("""{"requests":[{"params":{}}]}""", "requests.0.custom_id: Field required")]
    [InlineData("""{"requests":[{"custom_id":"a","params":[]}]}""", "requests.0.params: Input should be a valid dictionary")]
    [InlineData("""{"requests":[{"custom_id":"a","params":{},"extra":1}]}""", "requests.0.extra: Extra inputs are not permitted")]
    [InlineData("""{"requests":[]}""", "requests: List should have at least 1 item")]
    [InlineData("""{"requests":{}}""", "requests: Input should be a valid list")]
    [InlineData("""{}""", "requests: Field required")]
    [InlineData("""{"requests":[{"custom_id":"a","params":{}}""", "The request body is not valid JSON.")]
    public async Task CreateRefusesAMalformedBatchWithAnAnthropicErrorAndKeepsNothing(string body, string message)
    {
        using var api = AnthropicApi.For(sandbox.Host);

        using var response = await api.PostRawAsync(body, Ct);

        var error = await AnthropicApi.AssertErrorAsync(response, 400, "invalid_request_error");
        Assert.StartsWith(message, error.Str("message"));
        Assert.Empty((await api.GetAsync("v1/messages/batches", Ct)).GetProperty("data").EnumerateArray());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(sandbox.Host.DataDirectory, "batches"), "*.upload"));
    }

    [Fact]
    public async Task CreateRefusesMoreThanOneHundredThousandRequestsReadFromAStreamedBody()
    {
        using var api = AnthropicApi.For(sandbox.Host);
        var body = new StringBuilder("{\"requests\":[\n");
        for (var i = 0; i <= 100_000; i++) body.Append(i == 0 ? "" : ",\n").Append("{\"custom_id\":\"r").Append(i).Append("\",\"params\":{}}");
        body.Append("]}");

        using var response = await api.PostRawAsync(body.ToString(), Ct);

        var error = await AnthropicApi.AssertErrorAsync(response, 400, "invalid_request_error");
        Assert.Contains("at most 100,000 requests", error.Str("message"));
    }

    [Fact]
    public async Task AnthropicRequestsNeedTheVersionHeaderAndErrorsTakeAnthropicsShape()
    {
        using var http = sandbox.Host.CreateClient();
        http.DefaultRequestHeaders.Add("x-api-key", "sk-ant-any");
        using var noVersion = await http.GetAsync("v1/messages/batches", Ct);
        Assert.Contains("anthropic-version", (await AnthropicApi.AssertErrorAsync(noVersion, 400, "invalid_request_error")).Str("message"));

        using var api = AnthropicApi.For(sandbox.Host);
        using var unknown = await api.Http.GetAsync("v1/messages/batches/msgbatch_nope", Ct);
        await AnthropicApi.AssertErrorAsync(unknown, 404, "not_found_error");
        using var badRoute = await api.Http.GetAsync("v1/messages/nowhere", Ct);
        await AnthropicApi.AssertErrorAsync(badRoute, 404, "not_found_error");
    }

    [Fact]
    public async Task WithAConfiguredKeyOnlyThatXApiKeyIsAcceptedAndOthersGetAnAuthenticationError()
    {
        await using var host = SandboxHost.Start(new Dictionary<string, string?> { ["Sandbox:ApiKey"] = "sk-ant-only" });
        using var wrong = AnthropicApi.For(host, "sk-ant-wrong");
        using var right = AnthropicApi.For(host, "sk-ant-only");

        using var refused = await wrong.Http.GetAsync("v1/messages/batches", Ct);
        Assert.Contains("x-api-key", (await AnthropicApi.AssertErrorAsync(refused, 401, "authentication_error")).Str("message"));
        Assert.Empty((await right.GetAsync("v1/messages/batches", Ct)).GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task EachKeySeesOnlyItsOwnMessageBatchesAndOpenAIBatchesAreASeparateList()
    {
        using var owner = AnthropicApi.For(sandbox.Host);
        using var other = AnthropicApi.For(sandbox.Host);
        var batch = await owner.CreateAsync([AnthropicApi.Request("only", "mine")], Ct);

        using var foreign = await other.Http.GetAsync($"v1/messages/batches/{batch.Str("id")}", Ct);
        await AnthropicApi.AssertErrorAsync(foreign, 404, "not_found_error");
        Assert.Empty((await other.GetAsync("v1/messages/batches", Ct)).GetProperty("data").EnumerateArray());

        using var openAi = sandbox.Host.CreateClient();
        openAi.DefaultRequestHeaders.Authorization = new("Bearer", owner.ApiKey);
        using var asOpenAiBatch = await openAi.GetAsync($"v1/batches/{batch.Str("id")}", Ct);
        Assert.Equal(404, (int)asOpenAiBatch.StatusCode);
        using var openAiList = JsonDocument.Parse(await openAi.GetStringAsync("v1/batches", Ct));
        Assert.Empty(openAiList.RootElement.GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task ListPagesNewestFirstWithAfterIdAndBeforeId()
    {
        using var api = AnthropicApi.For(sandbox.Host);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add((await api.CreateAsync([AnthropicApi.Request("r", $"batch {i}")], Ct)).Str("id"));

        var first = await api.GetAsync("v1/messages/batches?limit=2", Ct);
        Assert.Equal([ids[2], ids[1]], Ids(first));
        Assert.True(first.GetProperty("has_more").GetBoolean());
        Assert.Equal((ids[2], ids[1]), (first.Str("first_id"), first.Str("last_id")));

        var older = await api.GetAsync($"v1/messages/batches?limit=2&after_id={ids[1]}", Ct);
        Assert.Equal([ids[0]], Ids(older));
        Assert.False(older.GetProperty("has_more").GetBoolean());

        var newer = await api.GetAsync($"v1/messages/batches?limit=1&before_id={ids[0]}", Ct);
        Assert.Equal([ids[1]], Ids(newer));
        Assert.True(newer.GetProperty("has_more").GetBoolean());

        using var badLimit = await api.Http.GetAsync("v1/messages/batches?limit=0", Ct);
        await AnthropicApi.AssertErrorAsync(badLimit, 400, "invalid_request_error");

        static List<string> Ids(JsonElement page) => [.. page.GetProperty("data").EnumerateArray().Select(b => b.Str("id"))];
    }

    [Fact]
    public async Task OnlyAnEndedBatchCanBeDeletedAndThenItIsGone()
    {
        using var api = AnthropicApi.For(sandbox.Host);
        var batch = await api.CreateAsync([AnthropicApi.Request("r", "delete me")], Ct);
        await api.WaitEndedAsync(batch.Str("id"), Ct);

        using var deleted = await api.Http.DeleteAsync($"v1/messages/batches/{batch.Str("id")}", Ct);
        var body = await deleted.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal((batch.Str("id"), "message_batch_deleted"), (body.Str("id"), body.Str("type")));

        using var gone = await api.Http.GetAsync($"v1/messages/batches/{batch.Str("id")}", Ct);
        await AnthropicApi.AssertErrorAsync(gone, 404, "not_found_error");
        using var noResults = await api.Http.GetAsync($"v1/messages/batches/{batch.Str("id")}/results", Ct);
        await AnthropicApi.AssertErrorAsync(noResults, 404, "not_found_error");
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(sandbox.Host.DataDirectory, "batches"), batch.Str("id") + "*"));
    }
}
