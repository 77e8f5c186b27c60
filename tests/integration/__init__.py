"""Integration tests: real processes on real store files."""
