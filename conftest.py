"""Personas shared by the whole suite.

Access rules are tested with the same cast everywhere (STYLE.md, habit 6):
agency staff, an admin, the manager and a plain requester of client A, and a
contact of client B who must never see anything of A.
"""

import os

import pytest
from django.test import Client

from caredesk.accounts.models import ApiToken, Role, User
from caredesk.clients.models import Contact, Organisation, Site

PASSWORD = "a-long-test-password-42"  # noqa: S105 - a fixture, not a secret.

# Settings a child ``caredesk`` process must not inherit from the test run:
# a PostgreSQL run's DATABASE_URL would point children at the test server.
_CHILD_UNSET = (
    "DATABASE_URL",
    "CAREDESK_TEST_DATABASE_NAME",
    "CAREDESK_ENV",
    "CAREDESK_DEBUG",
    "CAREDESK_SECRET_KEY",
    "CAREDESK_ENCRYPTION_KEYS",
    "CAREDESK_RESTIC_PASSWORD",
    "CAREDESK_ALLOWED_HOSTS",
    "CAREDESK_ADMIN_EMAIL",
    "CAREDESK_ADMIN_PASSWORD",
)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "integration: runs caredesk as child processes with their own data directory "
        "and SQLite database, outside the test database",
    )
    # WhiteNoise warns once per test client that collectstatic has not run; the
    # suite serves static files from the apps (WHITENOISE_USE_FINDERS), as a checkout does.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")


def _client_user(email: str, name: str, organisation: Organisation, **contact) -> User:
    user = User.objects.create_user(email, PASSWORD, role=Role.CLIENT, full_name=name)
    Contact.objects.create(organisation=organisation, name=name, email=email, user=user, **contact)
    return user


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher is slow by design; tests sign in hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def child_base_env() -> dict[str, str]:
    """This process's environment less what a ``caredesk`` child must not inherit."""
    return {k: v for k, v in os.environ.items() if k not in _CHILD_UNSET}


@pytest.fixture
def child_env(tmp_path, child_base_env) -> dict[str, str]:
    """Environment for a ``caredesk`` child: its own data directory, SQLite, no .env file."""
    return {
        **child_base_env,
        "CAREDESK_DATA_DIR": str(tmp_path / "data"),
        "CAREDESK_ENV_FILE": str(tmp_path / "no.env"),
    }


@pytest.fixture
def password() -> str:
    """The password every persona signs in with."""
    return PASSWORD


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(
        "agent@agency.example", PASSWORD, role=Role.AGENT, full_name="Ada Agent"
    )


@pytest.fixture
def admin_user(db) -> User:
    return User.objects.create_user(
        "admin@agency.example", PASSWORD, role=Role.ADMIN, full_name="Alex Admin"
    )


@pytest.fixture
def org_a(db) -> Organisation:
    return Organisation.objects.create(name="Alpha Bakery", email_domains="alpha.example")


@pytest.fixture
def org_b(db) -> Organisation:
    return Organisation.objects.create(name="Beta Dental", email_domains="beta.example")


@pytest.fixture
def manager_a(org_a) -> User:
    return _client_user("mia@alpha.example", "Mia Manager", org_a, is_manager=True)


@pytest.fixture
def requester_a(org_a) -> User:
    return _client_user("rob@alpha.example", "Rob Requester", org_a)


@pytest.fixture
def contact_b(org_b) -> User:
    return _client_user("bea@beta.example", "Bea Beta", org_b, is_manager=True)


@pytest.fixture
def site_a(org_a) -> Site:
    return Site.objects.create(organisation=org_a, name="Alpha shop", url="https://alpha.example/")


@pytest.fixture
def site_b(org_b) -> Site:
    return Site.objects.create(organisation=org_b, name="Beta site", url="https://beta.example/")


@pytest.fixture
def api_client_for(db):
    """A function turning a user into a test client that sends their API token."""

    def make(user: User) -> Client:
        _, secret = ApiToken.issue(user, "test")
        return Client(headers={"Authorization": f"Bearer {secret}"})

    return make
