"""Developer tooling: the native runner and the test command."""
