namespace BatchAspire.Sandbox.Tests;
