global using System.Text;
global using BatchAspire.Testing;
global using Xunit;

[assembly: AssemblyFixture(typeof(RedisFixture))]
[assembly: AssemblyFixture(typeof(BatchAspire.Intake.Tests.SharedIntake))]
