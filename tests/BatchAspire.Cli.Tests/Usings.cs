global using BatchAspire.Testing;
