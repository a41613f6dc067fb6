"""Customer.io's reporting webhooks: the way message activity comes in (DESIGN.md, the flow).

signature.py checks a post came from Customer.io; payload.py reads its body into a row's fields;
views.py stores it and answers. Like ingestion, an answer of 200 means the row is committed.
"""
