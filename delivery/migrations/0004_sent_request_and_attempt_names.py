"""Names that say what each thing is: Attempt (one HTTP request) becomes SentRequest, a delivery's
attempt links to its `sent_request`, and the count on a delivery is `attempt_count`.

Renames only, so every row stays. PostgreSQL renames the table and the columns in place (ALTER TABLE
... RENAME); SQLite copies a table whose foreign-key column is renamed. The one unique constraint
that names a renamed column is made again; related names change in the model state only.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0003_admin_log_indexes"),
        ("destinations", "0002_credential_and_name_list_validators"),
    ]

    operations = [
        # The unique constraint names the renamed column: dropped first, made again at the end.
        migrations.RemoveConstraint(model_name="deliveryattempt", name="delivery_attempt_unique"),
        migrations.RenameModel("Attempt", "SentRequest"),
        migrations.RenameField("deliveryattempt", "attempt", "sent_request"),
        migrations.RenameField("delivery", "attempts", "attempt_count"),
        migrations.AlterField(
            model_name="delivery",
            name="attempt_count",
            field=models.PositiveIntegerField(default=0, verbose_name="attempts"),
        ),
        migrations.AlterField(
            model_name="sentrequest",
            name="destination",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="sent_requests",
                to="destinations.destination",
            ),
        ),
        migrations.AlterField(
            model_name="sentrequest",
            name="deliveries",
            field=models.ManyToManyField(
                related_name="sent_requests", through="delivery.DeliveryAttempt", to="delivery.delivery"
            ),
        ),
        migrations.AlterField(
            model_name="deliveryattempt",
            name="delivery",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="attempts", to="delivery.delivery"
            ),
        ),
        migrations.AlterField(
            model_name="deliveryattempt",
            name="sent_request",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="delivery_attempts",
                to="delivery.sentrequest",
            ),
        ),
        migrations.AddConstraint(
            model_name="deliveryattempt",
            constraint=models.UniqueConstraint(
                fields=("delivery", "sent_request"), name="delivery_attempt_unique"
            ),
        ),
    ]
