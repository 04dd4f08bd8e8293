using Microsoft.Extensions.Hosting;

namespace BatchAspire.Core.Tests.Messaging;

public sealed class BrokerConnectionTests
{
    [Fact]
    public void OneUriIsOneBrokerWithoutQuorumQueues()
    {
        var connection = BrokerConnection.Parse("amqp://guest:guest@127.0.0.1:5672");

        Assert.False(connection.IsCluster);
        Assert.Equal(5672, Assert.Single(connection.Nodes).Port);
    }

    [Fact]
    public void CommaSeparatedUrisAreTheNodesOfOneClusterInTheirOrder()
    {
        var connection = BrokerConnection.Parse("amqp://guest:guest@127.0.0.1:5001, amqp://guest:guest@127.0.0.1:5002,amqp://guest:guest@127.0.0.1:5003");

        Assert.True(connection.IsCluster);
        Assert.Equal([5001, 5002, 5003], connection.Nodes.Select(n => n.Port));
        Assert.Equal("guest:guest", connection.Nodes[0].UserInfo);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(" ")]
    [InlineData("127.0.0.1:5672")]
    [InlineData("amqp://guest:guest@127.0.0.1:5672,http://127.0.0.1:5673")]
    public void AnythingButAmqpUrisIsRefusedWithoutEchoingTheValue(string? connectionString)
    {
        var error = Assert.Throws<InvalidOperationException>(() => BrokerConnection.Parse(connectionString));

        Assert.Contains("ConnectionStrings:messaging", error.Message);
        Assert.DoesNotContain("guest", error.Message);
    }
}
