"""API tokens: the secret is shown once, only its hash is kept, and bad input finds nothing."""

import hashlib

import pytest
from django.db import connection

from caredesk.accounts.models import ApiToken
from caredesk.lib import clock

pytestmark = pytest.mark.django_db


def test_issue_returns_a_secret_and_stores_only_its_hash(staff):
    token, secret = ApiToken.issue(staff, "accounting export")
    stored = ApiToken.objects.values().get(pk=token.pk)
    assert secret.startswith(token.prefix + ".")
    assert stored["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert not any(secret in str(value) for value in stored.values())


def test_each_issue_makes_a_different_secret(staff):
    _, first = ApiToken.issue(staff, "one")
    _, second = ApiToken.issue(staff, "two")
    assert first != second


def test_authenticate_finds_the_token_of_a_live_secret(staff):
    token, secret = ApiToken.issue(staff, "test")
    found = ApiToken.objects.authenticate(secret)
    assert found == token
    assert found.user == staff


def test_wrong_secret_with_a_real_prefix_is_refused(staff):
    token, secret = ApiToken.issue(staff, "test")
    assert ApiToken.objects.authenticate(f"{token.prefix}.not-the-secret") is None
    assert ApiToken.objects.authenticate(secret + "x") is None


def test_revoked_token_is_refused(staff):
    token, secret = ApiToken.issue(staff, "test")
    token.revoked_at = clock.now()
    token.save()
    assert ApiToken.objects.authenticate(secret) is None


def test_token_of_an_inactive_user_is_refused(staff):
    _, secret = ApiToken.issue(staff, "test")
    staff.is_active = False
    staff.save()
    assert ApiToken.objects.authenticate(secret) is None


ON_POSTGRES = connection.vendor == "postgresql"


@pytest.mark.parametrize(
    "presented",
    [
        "",
        ".",
        "no-dot-at-all",
        ".only-a-secret",
        "cd000000000000.",
        "x" * 10_000,
        pytest.param("\x00.\x00", id="nul"),
    ],
    ids=["empty", "dot", "no-dot", "no-prefix", "no-secret", "10kB", "nul"],
)
def test_garbage_is_refused_without_error(staff, presented):
    ApiToken.issue(staff, "test")
    assert ApiToken.objects.authenticate(presented) is None
