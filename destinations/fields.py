from __future__ import annotations

import logging

from django.db import models

from destinations import crypto

logger = logging.getLogger(__name__)


class EncryptedTextField(models.TextField):
    """A text column whose value is stored encrypted (destinations/crypto.py) and read back in the clear.

    The ciphertext is not deterministic, so the column cannot be filtered on; keep a digest beside it
    when lookups are needed.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        try:
            return crypto.decrypt(value)
        except crypto.DecryptionError as error:
            logger.warning("a stored %s cannot be read: %s", self.verbose_name, error)
            return crypto.UnreadableSecret(value)

    def get_prep_value(self, value):
        if isinstance(value, crypto.UnreadableSecret):
            return value.ciphertext
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)
