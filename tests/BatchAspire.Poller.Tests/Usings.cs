global using BatchAspire.Testing;
global using BatchAspire.Testing.Polling;

// One redis-server for the assembly; every test that needs Redis takes a database of its own from it.
[assembly: AssemblyFixture(typeof(RedisFixture))]
// The replica tests measure gaps between polls and takeover times; running them beside other tests on two
// cores would measure the machine, not the poller.
[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]

namespace BatchAspire.Poller.Tests;
