namespace BatchAspire.Poller.Tests;
