"""WP-CLI over SSH, against an SSH server on 127.0.0.1 that runs commands in a real shell and
the real test WordPress.

WP-CLI itself cannot be installed here, so ``wpcli/wp.php`` stands in for it: it
answers the subcommands the connector uses with WP-CLI's output formats (see its
header). These tests prove the connector against that stand-in, not against WP-CLI.
"""

from pathlib import Path

import asyncssh
import pytest

from caredesk.clients.models import Connection, Site
from caredesk.maintenance import actions, connectors, updates
from caredesk.maintenance.connectors import ItemRef
from caredesk.maintenance.models import LogEntry, RunState, SiteMaintenance, StepAction, StepState
from caredesk.maintenance.sites import connector_for, settings_for

from .ssh_server import PASSWORD, USER, SSHServer

pytestmark = pytest.mark.django_db(transaction=True)

STAND_IN = Path(__file__).parent / "wpcli" / "wp.php"
TEST = ItemRef("plugin", "caredesk-test")


@pytest.fixture
def ssh(tmp_path):
    server = SSHServer(tmp_path / "home").start()
    yield server
    server.stop()


@pytest.fixture
def site(org_a, wp, ssh) -> Site:
    site = Site.objects.create(
        organisation=org_a,
        name="Alpha over SSH",
        url=wp.url + "/",
        connection=Connection.WP_CLI_SSH,
        connection_user=USER,
        connection_secret=PASSWORD,
        ssh_host="127.0.0.1",
        ssh_port=ssh.port,
    )
    settings = settings_for(site)
    settings.allow_private = True
    settings.health_keyword = "caredesk test site"
    settings.backup_before_updates = False
    settings.wp_cli = f"php {STAND_IN}"
    settings.wp_path = str(wp.root)
    settings.save()
    return site


def set_settings(site, **values):
    SiteMaintenance.objects.filter(site=site).update(**values)
    site.refresh_from_db()
    site.maintenance.refresh_from_db()


def test_an_inventory_over_ssh_reads_core_php_plugins_themes_and_updates(site, wp, ssh):
    from .wp_site import installed_core_version

    wp.updates.offer_version("1.1.0")

    snapshot = actions.take_inventory(site)

    assert snapshot.core_version == installed_core_version()
    assert snapshot.php_version.startswith("8.")
    assert snapshot.connector_version == "WP-CLI 0.0.0-caredesk-stand-in"
    items = {(i.kind, i.slug): i for i in snapshot.items.all()}
    test = items[("plugin", "caredesk-test")]
    assert (test.name, test.version, test.update_version, test.active) == (
        "caredesk test plugin",
        "1.0.0",
        "1.1.0",
        True,
    )
    assert items[("theme", "caredesk-plain")].active
    assert ("plugin", "local-updates") not in items  # a must-use plugin is no item
    assert items[("core", "wordpress")].update_version == ""  # no network: no offer
    # Every command went through a real shell with its words quoted.
    assert all(command.startswith("php ") for command in ssh.commands)
    assert f"--path={wp.root}" in ssh.commands[0]


def test_the_first_host_key_is_pinned_and_another_is_refused_before_logging_in(site, ssh):
    actions.take_inventory(site)
    settings = SiteMaintenance.objects.get(site=site)
    assert settings.ssh_host_key == " ".join(ssh.public_host_key.split()[:2])
    assert settings.ssh_host_key_seen_at is not None
    actions.take_inventory(site)  # the same key: fine

    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    set_settings(site, ssh_host_key=other)
    ssh.passwords.clear()
    ssh.commands.clear()

    with pytest.raises(connectors.HostKeyChanged, match="host key changed") as refused:
        actions.take_inventory(site)

    assert "SHA256:" in str(refused.value)
    assert ssh.passwords == [] and ssh.commands == []  # nothing was sent to that server
    settings.refresh_from_db()
    assert settings.last_error_kind == "host_key"
    assert settings.ssh_host_key == other  # a changed key never replaces the pinned one


def test_a_private_key_from_the_site_secret_logs_in(site, ssh):
    key = asyncssh.generate_private_key("ssh-ed25519")
    ssh.client_keys.append(key)
    site.connection_secret = key.export_private_key().decode()
    site.save()

    snapshot = actions.take_inventory(site)

    assert snapshot.items.filter(slug="caredesk-test").exists()
    assert ssh.passwords == []


def test_a_wrong_password_is_refused_and_recorded(site):
    site.connection_secret = "not-the-password"
    site.save()
    with pytest.raises(connectors.AuthRefused, match="refused user 'deploy' with this password"):
        actions.take_inventory(site)
    assert SiteMaintenance.objects.get(site=site).last_error_kind == "auth"


def test_a_site_on_a_private_address_needs_the_setting(site):
    set_settings(site, allow_private=False)
    with pytest.raises(connectors.Unreachable, match="allow private addresses"):
        actions.take_inventory(site)


def test_an_update_run_over_ssh_backs_up_updates_and_logs_from_to(site, wp, ssh):
    wp.updates.offer_version("1.1.0")
    actions.take_inventory(site)

    run = actions.do_request_update_run(site, items=[TEST])
    updates.execute(run.pk)

    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    assert [(s.action, s.state) for s in run.steps.order_by("position")] == [
        (StepAction.BACKUP, StepState.DONE),
        (StepAction.UPDATE, StepState.DONE),
        (StepAction.HEALTH, StepState.DONE),
        (StepAction.INVENTORY, StepState.DONE),
    ]
    assert wp.installed_test_version() == "1.1.0"
    entry = LogEntry.objects.get(site=site, slug="caredesk-test")
    assert (entry.from_version, entry.to_version, entry.update_run) == ("1.0.0", "1.1.0", run)
    # The item backup sits in the SSH user's home, out of the web root.
    [folder] = (ssh.home / ".caredesk-backups").iterdir()
    assert folder.name == run.backup_id
    assert {p.name for p in folder.iterdir()} == {
        "plugin-caredesk-test.tar.gz",
        "database.sql",
        "manifest.json",
    }
    backup = run.steps.get(action=StepAction.BACKUP).data
    assert backup["items"][0]["version"] == "1.0.0"
    assert backup["database"]["size"] == (folder / "database.sql").stat().st_size


def test_an_update_that_breaks_the_site_is_rolled_back_from_the_archive(site, wp):
    wp.updates.offer_version("1.1.0", broken=True)
    actions.take_inventory(site)

    run = actions.do_request_update_run(site, items=[TEST])
    updates.execute(run.pk)

    run.refresh_from_db()
    assert run.state == RunState.ROLLED_BACK, run.error
    assert [(s.action, s.state) for s in run.steps.order_by("position")] == [
        (StepAction.BACKUP, StepState.DONE),
        (StepAction.UPDATE, StepState.DONE),
        (StepAction.HEALTH, StepState.FAILED),
        (StepAction.ROLLBACK, StepState.DONE),
        (StepAction.HEALTH, StepState.DONE),
        (StepAction.INVENTORY, StepState.DONE),
    ]
    assert wp.installed_test_version() == "1.0.0"
    leftovers = [p.name for p in wp.plugin_dir.parent.iterdir() if p.name.startswith(".caredesk")]
    assert leftovers == []


def test_the_database_goes_back_from_an_item_backup(site, wp):
    connector = connector_for(site)
    backup = connector.backup([TEST], database=True)
    wp.set_option("blogname", "changed after the backup")

    connector.restore(backup.id, [], database=True)

    assert wp.option("blogname") == "caredesk test site"


def test_a_command_past_its_deadline_is_cut_and_ended(site, ssh, settings):
    settings.CAREDESK_MAINTENANCE_TIMEOUT = 2
    set_settings(site, wp_cli="php -r 'sleep(120);' --")

    with pytest.raises(connectors.TimedOut, match="within 2 s"):
        connector_for(site).inventory()

    import time

    deadline = time.monotonic() + 20
    while not ssh.killed and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ssh.killed  # the remote process did not outlive the deadline


def test_words_are_quoted_for_the_remote_shell(site, wp, ssh):
    set_settings(site, wp_path=f"{wp.root}/$(touch pwned); touch pwned2")

    with pytest.raises(connectors.RemoteFailed, match="does not seem to be a WordPress"):
        actions.take_inventory(site)

    assert not (ssh.home / "pwned").exists() and not (ssh.home / "pwned2").exists()


def test_an_answer_that_is_no_version_is_refused(site):
    set_settings(site, wp_cli="echo")  # echoes its words back instead of a version
    with pytest.raises(connectors.BadAnswer, match="not a version"):
        actions.take_inventory(site)


def test_json_with_the_wrong_types_is_refused(site, tmp_path):
    liar = tmp_path / "liar.php"
    liar.write_text(
        "<?php\n$a = implode(' ', array_slice($argv, 1));\n"
        "if (strpos($a, 'core version') !== false) { echo \"6.4.2\\n\"; exit(0); }\n"
        "if (strpos($a, 'check-update') !== false) { echo '[]'; exit(0); }\n"
        "echo '{\"php_version\": 8.2}';\n"
    )
    set_settings(site, wp_cli=f"php {liar}")
    with pytest.raises(connectors.BadAnswer, match="php_version"):
        actions.take_inventory(site)


def test_a_missing_wp_cli_says_where_to_set_it(site):
    set_settings(site, wp_cli="no-such-wp-command")
    with pytest.raises(connectors.NotConfigured, match="WP-CLI is not found"):
        actions.take_inventory(site)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"connection_user": ""}, "SSH user"),
        ({"connection_secret": ""}, "private key or password"),
        ({"connection_secret": "-----BEGIN OPENSSH PRIVATE KEY-----\nnope"}, "cannot be read"),
    ],
)
def test_what_is_missing_is_said_before_connecting(site, fields, message):
    for name, value in fields.items():
        setattr(site, name, value)
    site.save()
    with pytest.raises(connectors.NotConfigured, match=message):
        connector_for(site)
