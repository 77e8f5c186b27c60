"""The reliability campaign: many agents, injected faults, invariants checked from the log."""
