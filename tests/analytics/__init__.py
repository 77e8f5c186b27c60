"""Analytics on DuckDB: figures against a plain-Python fold, incremental feeding,
payout rules, read-only SQL, exports and the CLI commands end to end."""
