from __future__ import annotations

from django.db import models

from destinations import crypto


class EncryptedTextField(models.TextField):
    """A text column whose value is stored encrypted (destinations/crypto.py) and read back in the clear.

    The ciphertext is not deterministic, so the column cannot be filtered on; keep a digest beside it
    when lookups are needed.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)
