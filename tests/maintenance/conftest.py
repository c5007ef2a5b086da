"""A real WordPress site for the maintenance tests (skipped where php or MariaDB is missing)."""

import pytest

from caredesk.clients.models import Connection, Site
from caredesk.maintenance.sites import settings_for

from . import wp_site


@pytest.fixture(scope="session")
def wordpress(tmp_path_factory):
    reason = wp_site.missing()
    if reason:
        pytest.skip(f"no WordPress test site: {reason}")
    site = wp_site.start(tmp_path_factory.mktemp("wordpress") / "site")
    yield site
    site.stop()


@pytest.fixture
def wp(wordpress):
    """The shared WordPress site with the test plugin back at 1.0.0 and no update offered."""
    wordpress.put_test_plugin("1.0.0")
    wordpress.updates.offer_version(None)
    return wordpress


@pytest.fixture
def wp_site_row(org_a, wp) -> Site:
    """The WordPress site as caredesk knows it: companion plugin, loopback allowed."""
    site = Site.objects.create(
        organisation=org_a,
        name="Alpha WordPress",
        url=wp.url + "/",
        connection=Connection.COMPANION,
        connection_secret=wp.key,
    )
    settings = settings_for(site)
    settings.allow_private = True
    settings.health_keyword = "caredesk test site"
    settings.save()
    return site


@pytest.fixture
def fake_site():
    from .fake_site import FakeSite

    server = FakeSite().start()
    yield server
    server.stop()
