global using BatchAspire.Testing;

[assembly: AssemblyFixture(typeof(BatchAspire.Poller.Tests.Support.RedisFixture))]
// The replica tests measure gaps between polls and takeover times; running them beside other tests on two
// cores would measure the machine, not the poller.
[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]

namespace BatchAspire.Poller.Tests;
