"""Encryption of secrets at rest (Customer.io API keys, source write keys).

Fernet (AES-128-CBC with HMAC-SHA256). Keys come from SECRETS_ENCRYPTION_KEY: the first encrypts,
all decrypt, so a key can be rotated. When it is unset, one key is derived from SECRET_KEY with HKDF.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from cio_project.log_redaction import register_secret

PREFIX = "fernet:"


class DecryptionError(Exception):
    """The stored value was encrypted with a key this installation does not have."""


class UnreadableSecret(str):
    """A stored secret this installation cannot decrypt (SECRETS_ENCRYPTION_KEY or SECRET_KEY changed).

    It reads as empty text, so it is never used as a credential and pages show it as needing to be
    entered again instead of failing; saved back, it writes its ciphertext unchanged, so restoring the
    right key restores the secret.
    """

    ciphertext: str

    def __new__(cls, ciphertext: str) -> UnreadableSecret:
        secret = super().__new__(cls, "")
        secret.ciphertext = ciphertext
        return secret


def _derived_key(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"cio-relay", info=b"secrets-at-rest")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


@cache
def _fernet() -> MultiFernet:
    keys = settings.SECRETS_ENCRYPTION_KEYS or [_derived_key(settings.SECRET_KEY).decode()]
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError:
        raise ImproperlyConfigured(
            "SECRETS_ENCRYPTION_KEY must be comma-separated Fernet keys "
            "(32 url-safe base64-encoded bytes each)"
        ) from None


def encrypt(plaintext: str) -> str:
    register_secret(plaintext)
    return PREFIX + _fernet().encrypt(plaintext.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise DecryptionError("value is not encrypted")
    try:
        plaintext = _fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise DecryptionError("value was encrypted with another key (check SECRETS_ENCRYPTION_KEY)") from None
    register_secret(plaintext)
    return plaintext


def digest(value: str) -> str:
    """A stable, non-reversible index for looking a secret up without storing it in the clear.

    Any text has one, even text no UTF-8 can hold (a JSON "\\ud800" in a body's writeKey): such a key
    simply matches no source, instead of failing the request.
    """
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
