"""Ingestion: the Segment/RudderStack-compatible HTTP API (views, auth, body, validation, enrich,
sizes, refusals, throttle) and the storing of what it accepts (store.py: the rules in rows.py, the SQL in
writer.py), before it answers."""
