"""The log's forgiving search: prefix-capable indexes, and email addresses stored lowercased.

The new indexes are built before the old ones are dropped, so searches stay indexed throughout. Stored
addresses are lowercased in batches of id ranges, each committed on its own (the migration is not one
transaction), so a large table is neither locked whole nor rewritten in one go; it uses Python's
lower(), as writing does (SQLite's LOWER() changes ASCII letters only).
"""

from django.db import migrations, models

BATCH = 5_000


def lowercase_emails(apps, schema_editor):
    for name in ("Event", "MessageActivity"):
        model = apps.get_model("delivery", name)
        rows = model.objects.using(schema_editor.connection.alias).exclude(email="")
        last = 0
        while True:
            batch = list(rows.filter(id__gt=last).order_by("id").values_list("id", "email")[:BATCH])
            if not batch:
                break
            last = batch[-1][0]
            changed = [model(id=pk, email=email.strip().lower()) for pk, email in batch]
            changed = [row for row, (_, email) in zip(changed, batch) if row.email != email]
            model.objects.using(schema_editor.connection.alias).bulk_update(changed, ["email"])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("delivery", "0006_delivery_runs_and_replay_history"),
        ("destinations", "0005_source_allowed_origins"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                fields=["event_name", "-id"],
                name="delivery_log_event_name_prefix",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                fields=["person", "destination", "-id"],
                name="delivery_log_person_prefix",
                opclasses=["varchar_pattern_ops", "int8_ops", "int8_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                fields=["message_id"], name="event_message_id_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ),
        migrations.RemoveIndex(model_name="delivery", name="delivery_log_event_name"),
        migrations.RemoveIndex(model_name="delivery", name="delivery_log_person"),
        migrations.RemoveIndex(model_name="event", name="event_message_id"),
        migrations.RunPython(lowercase_emails, migrations.RunPython.noop, elidable=True),
    ]
