global using BatchAspire.Testing;
global using BatchAspire.Workers.Tests.Support;

namespace BatchAspire.Workers.Tests;
