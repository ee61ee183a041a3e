"""What the tests and the benchmarks both use to run the service for real (not shipped in the
image): tests/ and bench/ import this, never each other."""
