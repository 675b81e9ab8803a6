"""Contract 2, the NDJSON edit stream: typed ops, an incremental decoder, and edit application on
in-memory text (a change set that a Workspace writes out atomically per file)."""
