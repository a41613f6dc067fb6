"""API keys and write keys are encrypted at rest and kept out of log lines."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from cio_project.log_redaction import RedactSecretsFilter
from destinations import crypto
from destinations.customerio.errors import ConfigurationError
from destinations.models import Destination, Source
from destinations.rudderstack_config import transform_config

API_KEY = "0123456789abcdef0123"


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_api_key_is_stored_encrypted_and_read_back_in_the_clear():
    # Given a destination saved with an API key
    destination = Destination.objects.create(name="cio", site_id="site1", api_key=API_KEY)
    # When the raw column is read
    stored = raw_column("destinations_destination", "api_key", destination.pk)
    # Then it holds ciphertext, not the key
    assert API_KEY not in stored
    assert stored.startswith("fernet:")
    # and the model reads the key back
    assert Destination.objects.get(pk=destination.pk).api_key == API_KEY


@pytest.mark.django_db
def test_write_key_is_random_encrypted_and_found_by_digest():
    # Given two sources
    first, second = Source.objects.create(name="web"), Source.objects.create(name="server")
    # Then each has its own unguessable key
    assert first.write_key != second.write_key
    assert len(first.write_key) >= 32
    # stored encrypted, with a digest to find it by
    assert first.write_key not in raw_column("destinations_source", "write_key", first.pk)
    assert Source.objects.get(write_key_digest=crypto.digest(first.write_key)) == first


@pytest.mark.django_db
def test_rotated_encryption_keys_still_decrypt_old_values(settings):
    # Given a value encrypted under an old key
    old_key = Fernet.generate_key().decode()
    settings.SECRETS_ENCRYPTION_KEYS = [old_key]
    crypto._fernet.cache_clear()
    stored = crypto.encrypt(API_KEY)
    # When a new key is put first
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]
    crypto._fernet.cache_clear()
    # Then the old value still decrypts
    assert crypto.decrypt(stored) == API_KEY
    # and without the old key it cannot be read, with a clear error
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    crypto._fernet.cache_clear()
    with pytest.raises(crypto.DecryptionError, match="another key"):
        crypto.decrypt(stored)
    crypto._fernet.cache_clear()


@pytest.fixture
def encryption_key(settings):
    """Switch the installation's encryption key: `encryption_key(key)`; the cache follows."""

    def use(key: str) -> None:
        settings.SECRETS_ENCRYPTION_KEYS = [key]
        crypto._fernet.cache_clear()

    yield use
    crypto._fernet.cache_clear()


@pytest.mark.django_db
def test_secrets_under_a_lost_key_are_unreadable_not_fatal_and_kept(encryption_key, admin_client):
    # Given a destination and a source saved under one encryption key
    old_key = Fernet.generate_key().decode()
    encryption_key(old_key)
    destination = Destination.objects.create(name="Main", site_id="site", api_key=API_KEY)
    source = Source.objects.create(name="web")
    stored = raw_column("destinations_destination", "api_key", destination.pk)
    # When the installation's key changes
    encryption_key(Fernet.generate_key().decode())
    destination = Destination.objects.get(pk=destination.pk)
    # Then the API key reads as unreadable, never as a usable credential
    assert isinstance(destination.api_key, crypto.UnreadableSecret) and destination.api_key == ""
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        transform_config(destination)
    # and the admin pages still open, saying what to do
    change = admin_client.get(f"/admin/destinations/destination/{destination.pk}/change/")
    assert change.status_code == 200 and "cannot be decrypted" in change.content.decode()
    assert admin_client.get("/admin/destinations/source/").status_code == 200
    assert admin_client.get(f"/admin/destinations/source/{source.pk}/change/").status_code == 200
    # And saving the row keeps the ciphertext, so restoring the old key restores the API key
    destination.name = "Main workspace"
    destination.save()
    assert raw_column("destinations_destination", "api_key", destination.pk) == stored
    encryption_key(old_key)
    assert Destination.objects.get(pk=destination.pk).api_key == API_KEY


@pytest.mark.django_db
def test_log_lines_never_show_an_api_key_or_an_authorization_header(caplog):
    # Given a destination whose key this process has decrypted
    destination = Destination.objects.create(name="cio", site_id="site1", api_key=API_KEY)
    Destination.objects.get(pk=destination.pk)
    logger = logging.getLogger("test.secrets")
    logger.addFilter(RedactSecretsFilter())
    # When code logs the key and a Basic header, even inside an exception
    with caplog.at_level(logging.INFO, logger="test.secrets"):
        logger.info("sending with key %s", API_KEY)
        logger.info("headers: Authorization: Basic c2l0ZTE6MDEyMzQ1Njc4OWFiY2RlZjAxMjM=")
        try:
            raise ValueError(f"bad key {API_KEY}")
        except ValueError:
            logger.exception("failed")
    # Then no line holds either
    text = caplog.text + "".join(record.exc_text or "" for record in caplog.records)
    assert API_KEY not in text
    assert "c2l0ZTE6MDEyMzQ1Njc4OWFiY2RlZjAxMjM=" not in text
    assert text.count("[redacted]") >= 3
