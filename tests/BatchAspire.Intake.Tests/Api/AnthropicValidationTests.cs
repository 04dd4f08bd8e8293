using System.Text.Json.Nodes;
using static BatchAspire.Intake.Tests.Api.Wire;

namespace BatchAspire.Intake.Tests.Api;

/// <summary>
/// A model routed to Anthropic first: every line goes through the translator when the batch is created, and a line that
/// cannot be translated fails the batch with OpenAI's line-numbered error, as other line errors do.
/// </summary>
public sealed class AnthropicValidationTests(SharedIntake intake)
{
    private const string Routed = SharedIntake.AnthropicRoutedModel;

    private readonly IntakeApp _app = intake.App;

    private static string Line(string customId, string body) =>
        $$$"""{"custom_id":"{{{customId}}}","method":"POST","url":"/v1/chat/completions","body":{{{body}}}}""";

    [Fact]
    public async Task AnUntranslatableLineFailsTheBatchWithItsLineNumberAndTheFieldItNames()
    {
        var batch = await CreateAsync(TestJsonl.File(
            TestJsonl.Request("a", Routed),
            Line("b", $$"""{"model":"{{Routed}}","messages":[{"role":"user","content":"Hi"}],"n":2}"""),
            TestJsonl.Request("c", Routed),
            Line("d", $$"""{"model":"{{Routed}}","messages":[{"role":"user","content":"Hi"}],"temperature":1.5}""")));

        Assert.Equal("failed", batch["status"].Str());
        Assert.NotNull(batch["failed_at"]);
        Assert.Equal("list", batch["errors"]!["object"].Str());
        var errors = batch["errors"]!["data"]!.AsArray();
        Assert.Equal([("invalid_value", "body.n", 2L), ("invalid_value", "body.temperature", 4L)],
            errors.Select(e => (e!["code"].Str()!, e["param"].Str(), e["line"]!.GetValue<long>())));
        Assert.StartsWith("This request cannot be sent to the provider its model is routed to (Anthropic): body.n:", errors[0]!["message"].Str());
    }

    [Fact]
    public async Task TranslatableLinesWithAnyOpenAICustomIdAreAccepted()
    {
        // Anthropic takes only [a-zA-Z0-9_-]{1,64} as custom_id; the submitter sends the line index, so the user's id never matters.
        var batch = await CreateAsync(TestJsonl.File(TestJsonl.Request("review #1 (ünïcode, spaces)", Routed), TestJsonl.Request("b", Routed)));

        Assert.Equal("validating", batch["status"].Str());
        Assert.Null(batch["errors"]);
    }

    [Fact]
    public async Task TheSameLinesForAModelWithoutARouteAreNotTranslated()
    {
        var batch = await CreateAsync(TestJsonl.File(
            Line("b", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"n":2}""")));

        Assert.Equal("validating", batch["status"].Str());
    }

    private async Task<JsonObject> CreateAsync(byte[] file)
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, file))["id"].Str()!;
        return await CreateBatchAsync(client, fileId, "/v1/chat/completions");
    }
}
