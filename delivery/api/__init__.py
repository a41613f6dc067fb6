"""The ingestion API: Segment/RudderStack-compatible endpoints that store events before answering."""
