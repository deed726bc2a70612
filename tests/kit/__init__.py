"""The shared test kit: keys, tokens, a fake clock, a loopback identity provider and the CLI runner."""
