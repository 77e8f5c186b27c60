"""Property tests: codec round trips and a stateful model of the claim service."""
