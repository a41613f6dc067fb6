"""Warehouse syncs: reading a warehouse source's query and storing what changed through ingestion's
store, the one way in (DESIGN.md invariant 11)."""
