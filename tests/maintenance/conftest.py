"""A real WordPress site for the maintenance tests (skipped where php or MariaDB is missing)."""

import os
import shutil
import subprocess

import pytest

from caredesk.clients.models import Connection, Site
from caredesk.maintenance.sites import settings_for

from . import restic_keys, wp_site


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
    wordpress.set_option("blogname", "caredesk test site")  # a restore test may change it
    return wordpress


@pytest.fixture(scope="session")
def wordpress_staging(tmp_path_factory):
    """A second WordPress site: the staging copy restores are sent to."""
    reason = wp_site.missing()
    if reason:
        pytest.skip(f"no WordPress test site: {reason}")
    site = wp_site.start(tmp_path_factory.mktemp("staging") / "site")
    yield site
    site.stop()


@pytest.fixture
def wp_site_row(org_a, wp) -> Site:
    """The WordPress site as caredesk knows it: companion plugin, loopback allowed.

    Its update runs take no full backup first (the update tests are about updates;
    test_backups_e2e turns it on where that is the point).
    """
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
    settings.backup_before_updates = False
    settings.save()
    return site


RESTIC_PASSWORD = "a-test-repository-password"


@pytest.fixture(autouse=True)
def _backups_stay_in_tmp(settings, tmp_path):
    """No test writes backups (or restic's cache) into the real data directory."""
    settings.CAREDESK_BACKUP_WORK_DIR = str(tmp_path / "backup-work")
    settings.CAREDESK_RESTIC_REPOSITORY = str(tmp_path / "no-repository-here")
    settings.CAREDESK_RESTIC_PASSWORD = RESTIC_PASSWORD
    settings.CAREDESK_BACKUP_LOCK_WAIT = 5


@pytest.fixture(scope="session")
def restic_template(tmp_path_factory):
    """An empty repository made once (restic init takes seconds); tests get copies."""
    if shutil.which("restic") is None:
        pytest.skip("restic is not installed (Debian: restic)")
    path = tmp_path_factory.mktemp("restic") / "repo"
    env = {**os.environ, "RESTIC_REPOSITORY": str(path), "RESTIC_PASSWORD": RESTIC_PASSWORD}
    subprocess.run(["restic", "init"], env=env, capture_output=True, check=True, timeout=120)
    backup = tmp_path_factory.mktemp("restic-keys")
    shutil.copytree(path / "keys", backup / "keys")
    if restic_keys.cheapen(path, RESTIC_PASSWORD):
        opened = subprocess.run(
            ["restic", "cat", "config"], env=env, capture_output=True, check=False
        )
        if opened.returncode != 0:  # restic does not take it: back to its own key
            shutil.rmtree(path / "keys")
            shutil.copytree(backup / "keys", path / "keys")
    return path


@pytest.fixture
def restic_repo(restic_template, tmp_path, settings):
    """This test's own restic repository under tmp_path."""
    repo = tmp_path / "restic-repo"
    shutil.copytree(restic_template, repo)
    settings.CAREDESK_RESTIC_REPOSITORY = str(repo)
    return repo


@pytest.fixture
def fake_site():
    from .fake_site import FakeSite

    server = FakeSite().start()
    yield server
    server.stop()


@pytest.fixture
def companion():
    """A site that speaks the companion plugin's backup and restore protocol (in Python)."""
    from .fake_companion import FakeCompanion

    server = FakeCompanion().start()
    yield server
    server.stop()
