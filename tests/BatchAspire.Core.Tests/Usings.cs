global using BatchAspire.Testing;

// One redis-server for the assembly; every test that needs Redis takes a database of its own from it.
[assembly: AssemblyFixture(typeof(RedisFixture))]
