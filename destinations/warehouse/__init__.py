"""Warehouse sources: a SQL query whose rows Customer.io should follow (reverse ETL).

What a source is and how its rows read (models, connection, mapping) lives here; the sync run that
stores them through ingestion's store lives in delivery.warehouse.
"""
