global using BatchAspire.Testing;
global using BatchAspire.Testing.Pipeline;

// One redis-server for the assembly; every pipeline host takes a database of its own from it.
[assembly: AssemblyFixture(typeof(RedisFixture))]
