-- "As of a time" reads find their last position without a scan.
CREATE INDEX events_recorded_us ON events (recorded_us);
