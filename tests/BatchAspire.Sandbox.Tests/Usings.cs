global using BatchAspire.Conformance;
