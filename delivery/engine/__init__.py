"""The delivery engine: claim due deliveries, filter, transform, batch, send, record, retry, sweep.

loop.py is one task run, from claim to record; claims.py, sending.py (per-person order while sending),
recording.py, retry.py and ratelimit.py are its stages; doorbell.py wakes workers; sweeper.py keeps
the database the truth; replay.py sends failed or filtered deliveries again. It talks to Customer.io
only through destinations/track_api and never imports ingestion or the admin.
"""
