namespace BatchAspire.Intake.Tests;
