"""The store conformance suite: every backend passes every test here."""
