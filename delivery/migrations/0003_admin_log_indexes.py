"""Indexes for the admin's delivery log: each filter and search reads newest first (ORDER BY id DESC).

The log lists a million rows a page at a time; with a (column, id) index a filtered page is a short
index range read backwards, instead of a scan of the table followed by a sort.
"""

from django.db import migrations, models

LOG_INDEXES = [
    models.Index(fields=["status", "-id"], name="delivery_log_status"),
    models.Index(fields=["destination", "-id"], name="delivery_log_destination"),
    models.Index(fields=["source", "-id"], name="delivery_log_source"),
    models.Index(fields=["message_type", "-id"], name="delivery_log_message_type"),
    models.Index(fields=["event_name", "-id"], name="delivery_log_event_name"),
    models.Index(fields=["person", "destination", "-id"], name="delivery_log_person"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0002_engine_claims_replay_rate_limit"),
    ]

    operations = [
        # Database only: Delivery.Meta.indexes lists what the delivery engine needs; these serve the
        # admin's reads alone, and keeping them out of the model state keeps the two apart.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AddIndex(model_name="delivery", index=index) for index in LOG_INDEXES
            ],
        ),
    ]
