"""Site secrets are encrypted at rest and survive key rotation."""

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection
from django.test import override_settings

from caredesk.clients.models import Site
from caredesk.lib import crypto
from caredesk.lib.crypto import SecretUnreadable

SECRET = "abcd EFGH 1234 ijkl MNOP 5678"


def raw_secret(site: Site) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT connection_secret FROM {Site._meta.db_table} WHERE id = %s",  # noqa: S608 - table name from the model, value bound.
            [site.pk],
        )
        return cursor.fetchone()[0]


def test_secret_is_stored_encrypted_and_reads_back_plain(site_a):
    site_a.connection_secret = SECRET
    site_a.save()
    stored = raw_secret(site_a)
    assert stored
    assert SECRET not in stored
    assert crypto.decrypt(stored) == SECRET
    assert Site.objects.get(pk=site_a.pk).connection_secret == SECRET


def test_same_secret_encrypts_differently_each_time():
    assert crypto.encrypt(SECRET) != crypto.encrypt(SECRET)


def test_empty_secret_stays_empty(site_a):
    assert raw_secret(site_a) == ""
    assert Site.objects.get(pk=site_a.pk).connection_secret == ""


def test_secret_stored_with_another_key_is_unreadable(site_a):
    site_a.connection_secret = SECRET
    site_a.save()
    with (
        override_settings(CAREDESK_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]),
        pytest.raises(SecretUnreadable, match="CAREDESK_ENCRYPTION_KEYS"),
    ):
        Site.objects.get(pk=site_a.pk)


def test_rotation_new_key_first_still_reads_old_secrets_and_writes_with_new(site_a):
    old_keys = list(settings.CAREDESK_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    site_a.connection_secret = SECRET
    site_a.save()
    with override_settings(CAREDESK_ENCRYPTION_KEYS=[new_key, *old_keys]):
        site = Site.objects.get(pk=site_a.pk)
        assert site.connection_secret == SECRET
        site.save()
    # Saved again under rotation: the new key alone now reads it.
    with override_settings(CAREDESK_ENCRYPTION_KEYS=[new_key]):
        assert Site.objects.get(pk=site_a.pk).connection_secret == SECRET
