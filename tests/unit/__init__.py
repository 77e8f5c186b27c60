"""Unit tests: rules, service, codec, settings, ids, verify and the error tree."""
