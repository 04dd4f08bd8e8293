using System.Text.Json;
using BatchAspire.Cli.Api;
using BatchAspire.Cli.Output;

namespace BatchAspire.Cli.Tests;

/// <summary>The batch object is read tolerantly: extras are shown when present, and missing or odd fields are unknown, not errors.</summary>
public sealed class BatchViewTests
{
    private static BatchView Read(string json)
    {
        using var document = JsonDocument.Parse(json);
        return BatchView.Read(document.RootElement);
    }

    [Fact]
    public void ChunksAndCostAreShownWhenTheServerSendsThem()
    {
        var batch = Read("""
            {"id":"batch_1","status":"in_progress","request_counts":{"total":100,"completed":40,"failed":2},
             "chunks":{"total":5,"open":2,"done":3},"cost":{"batch_usd":0.0042,"standard_usd":0.0084,"savings_usd":0.0042}}
            """);

        var line = BatchText.ProgressLine(batch, TimeSpan.FromSeconds(75), TimeSpan.FromSeconds(30));

        Assert.Equal("in_progress  42/100 (42%), done 40, failed 2  elapsed 1:15  left ~0:30  chunks 2 open, 3 done of 5  cost $0.0042", line);
        Assert.Equal("$0.0042 (standard $0.0084, saved $0.0042)", BatchText.Cost(batch));
    }

    [Fact]
    public void ARoutedBatchShowsEachProvidersShareOfItsRequestsAndCost()
    {
        var batch = Read("""
            {"id":"batch_3","status":"completed","cost":{"batch_usd":0.5,"standard_usd":1,"savings_usd":0.5,"providers":[
              {"provider":"openai-a","completed":247500,"failed":0,"batch_usd":0.25},
              {"provider":"claude","completed":2500,"failed":3,"batch_usd":0.0042},
              {"completed":1},"odd"]}}
            """);

        Assert.Equal(["openai-a: 247,500 done, 0 failed, $0.25", "claude: 2,500 done, 3 failed, $0.0042"],
            batch.Providers!.Select(p => $"{p.Provider}: {BatchText.Share(p)}"));
    }

    [Fact]
    public void AnOpenAIBatchWithoutExtrasOrWithOddFieldsStillReads()
    {
        var batch = Read("""{"id":"batch_2","status":"validating","request_counts":null,"metadata":null,"errors":{"data":"odd"},"created_at":"soon","cost":7}""");

        Assert.Equal("validating  done 0, failed 0  elapsed 0:02  left ?", BatchText.ProgressLine(batch, TimeSpan.FromSeconds(2), null));
        Assert.Null(batch.Chunks);
        Assert.Null(batch.CostUsd);
        Assert.Empty(batch.Providers!);
        Assert.Empty(batch.Errors);
        Assert.Equal("", BatchText.Created(batch));
    }
}
