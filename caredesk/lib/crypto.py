"""Secrets encrypted at rest with keys from the environment.

``CAREDESK_ENCRYPTION_KEYS`` holds one or more Fernet keys: the first encrypts,
all decrypt, so an operator rotates by putting a new key first.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with any configured key."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.CAREDESK_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "secret cannot be decrypted: CAREDESK_ENCRYPTION_KEYS lacks the key it was stored with"
        ) from None


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code sees plain text.

    Empty values stay empty (nothing to protect, and blank checks keep working).
    Such a column cannot be filtered on, by design.
    """

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)
