"""Auto-update rules: minor core and security releases at once, the rest in a monthly window."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from caredesk.clients.models import Connection
from caredesk.lib import clock
from caredesk.maintenance import actions, autoupdates
from caredesk.maintenance.connectors import Inventory, Item
from caredesk.maintenance.models import RunState, UpdateRun
from caredesk.maintenance.scan.found import Found
from caredesk.maintenance.sites import settings_for

from .helpers import connected_site

pytestmark = pytest.mark.django_db

# Wednesday 10 June 2026, 09:00 in London (08:00 UTC).
T0 = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _london(settings):
    settings.TIME_ZONE = "Europe/London"


@pytest.fixture
def now():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def site(org_a, now):
    return connected_site(org_a, "https://alpha.example/")


def rules(site, **values):
    settings = settings_for(site)
    for name, value in values.items():
        setattr(settings, name, value)
    settings.save()


def inventory(site, *, core=("6.4.2", ""), akismet=("5.3", ""), theme=("1.0", "1.1")):
    items = [
        Item("core", "wordpress", "WordPress", core[0], True, core[1]),
        Item("plugin", "akismet", "Akismet", akismet[0], True, akismet[1]),
        Item("theme", "astra", "Astra", theme[0], True, theme[1]),
    ]
    return actions.do_record_inventory(site, Inventory(core[0], "8.2", items))


def vulnerable(site, slug="akismet", installed="5.3", fixed_in="5.3.1", severity="high"):
    finding = Found(
        key=f"vuln:x:plugin:{slug}",
        category="vulnerability",
        severity=severity,
        title=f"{slug} XSS",
        item_kind="plugin",
        item_slug=slug,
        installed_version=installed,
        fixed_in=fixed_in,
        cvss_score=Decimal("7.5"),
    )
    return actions.do_record_scan(
        site, [finding], started_at=clock.now(), snapshot=None, checks_done=[], notes=[]
    )


def requested(site) -> list[tuple[list[str], str]]:
    return [
        (sorted(f"{i['kind']}:{i['slug']}" for i in run.items), run.reason)
        for run in UpdateRun.objects.filter(site=site).order_by("pk")
    ]


def test_every_rule_is_off_by_default(site):
    inventory(site, core=("6.4.2", "6.4.3"), akismet=("5.3", "5.3.2"))
    vulnerable(site)
    settings = settings_for(site)
    assert not (settings.auto_minor_core or settings.auto_security or settings.auto_monthly)

    assert autoupdates.apply_rules() == []


@pytest.mark.parametrize(
    ("installed", "offered", "minor"),
    [
        ("6.4.2", "6.4.3", True),
        ("6.4", "6.4.1", True),
        ("6.4.3", "6.5", False),
        ("6.4.3", "7.0", False),
        ("6.4.3", "6.4.3", False),
        ("6.4.10", "6.4.9", False),  # older: never
        ("6.4.2-RC1", "6.4.2", True),
    ],
)
def test_what_a_minor_core_release_is(installed, offered, minor):
    from caredesk.maintenance.models import SnapshotItem

    item = SnapshotItem(kind="core", slug="wordpress", version=installed, update_version=offered)
    assert autoupdates.is_minor_core(item) is minor


def test_a_minor_core_release_is_requested_at_once_after_the_inventory(site):
    rules(site, auto_minor_core=True)
    inventory(site, core=("6.4.2", "6.4.3"), akismet=("5.3", "5.3.2"))

    runs = autoupdates.apply_rules()

    assert requested(site) == [(["core:wordpress"], "auto: minor WordPress release")]
    assert runs[0].items == [{"kind": "core", "slug": "wordpress", "offered": "6.4.3"}]
    assert runs[0].requested_by is None
    # Nothing new until the next inventory, even once the run is over.
    UpdateRun.objects.update(state=RunState.SUCCEEDED)
    assert autoupdates.apply_rules() == []


def test_a_major_core_release_waits(site):
    rules(site, auto_minor_core=True)
    inventory(site, core=("6.4.3", "6.5"))
    assert autoupdates.apply_rules() == []


def test_a_security_release_is_one_whose_offer_reaches_the_fixed_in_version(site):
    rules(site, auto_security=True)
    vulnerable(site, fixed_in="5.3.1")
    inventory(site, akismet=("5.3", "5.3.2"))

    autoupdates.apply_rules()

    assert requested(site) == [(["plugin:akismet"], "auto: security release")]


@pytest.mark.parametrize(
    ("offered", "fixed_in"),
    [
        ("5.3.0.5", "5.3.1"),  # the offer does not reach the fix
        ("5.3.2", ""),  # no fix known
    ],
)
def test_an_offer_that_does_not_fix_the_finding_waits(site, offered, fixed_in):
    rules(site, auto_security=True)
    vulnerable(site, fixed_in=fixed_in)
    inventory(site, akismet=("5.3", offered))
    assert autoupdates.apply_rules() == []


def test_only_the_latest_scans_findings_count(site):
    rules(site, auto_security=True)
    vulnerable(site)
    actions.do_record_scan(
        site, [], started_at=clock.now(), snapshot=None, checks_done=[], notes=[]
    )
    inventory(site, akismet=("5.3", "5.3.2"))
    assert autoupdates.apply_rules() == []


def test_the_monthly_window_updates_everything_else_once_a_month(site, now):
    rules(site, auto_minor_core=True, auto_monthly=True, auto_window_day=15, auto_window_hour=3)
    inventory(site, core=("6.4.2", "6.4.3"), akismet=("5.3", "5.3.2"))
    autoupdates.apply_rules()
    assert requested(site) == [(["core:wordpress"], "auto: minor WordPress release")]
    UpdateRun.objects.update(state=RunState.SUCCEEDED)
    inventory(site, core=("6.4.3", ""), akismet=("5.3", "5.3.2"))  # the run's own
    assert autoupdates.apply_rules() == []

    # 15 June, 02:59 London: not yet.
    now.move_to(datetime(2026, 6, 15, 1, 59, tzinfo=UTC))
    assert autoupdates.apply_rules() == []
    # 03:00 London (02:00 UTC in summer time): the rest.
    now.move_to(datetime(2026, 6, 15, 2, 0, tzinfo=UTC))
    autoupdates.apply_rules()
    assert requested(site)[-1] == (["plugin:akismet", "theme:astra"], "auto: monthly window")
    UpdateRun.objects.update(state=RunState.SUCCEEDED)
    # Later that month: done already.
    now.move_to(datetime(2026, 6, 28, 12, 0, tzinfo=UTC))
    assert autoupdates.apply_rules() == []
    # July's window.
    now.move_to(datetime(2026, 7, 15, 2, 0, tzinfo=UTC))
    assert len(autoupdates.apply_rules()) == 1


def test_a_missed_window_is_caught_up_later_in_the_month(site, now):
    rules(site, auto_monthly=True, auto_window_day=1, auto_window_hour=3)
    inventory(site, akismet=("5.3", "5.3.2"))
    autoupdates.apply_rules()  # 10 June: the 1st's window has passed unrun
    assert requested(site) == [(["plugin:akismet", "theme:astra"], "auto: monthly window")]


def test_at_once_and_monthly_together_make_one_run(site, now):
    rules(site, auto_minor_core=True, auto_monthly=True, auto_window_day=1, auto_window_hour=0)
    inventory(site, core=("6.4.2", "6.4.3"), akismet=("5.3", "5.3.2"))

    autoupdates.apply_rules()

    assert requested(site) == [
        (
            ["core:wordpress", "plugin:akismet", "theme:astra"],
            "auto: minor WordPress release, monthly window",
        )
    ]


def test_a_site_with_a_run_under_way_is_left_for_the_next_round(site):
    rules(site, auto_minor_core=True)
    inventory(site, core=("6.4.2", "6.4.3"))
    busy = actions.do_request_update_run(site, reason="by hand")

    assert autoupdates.apply_rules() == []

    UpdateRun.objects.filter(pk=busy.pk).update(state=RunState.SUCCEEDED)
    assert len(autoupdates.apply_rules()) == 1  # the same inventory, now applied


def test_an_update_an_automatic_run_could_not_apply_is_left_to_a_person(site):
    rules(site, auto_security=True)
    vulnerable(site)
    inventory(site, akismet=("5.3", "5.3.2"))
    [run] = autoupdates.apply_rules()
    UpdateRun.objects.filter(pk=run.pk).update(state=RunState.ROLLED_BACK)

    inventory(site, akismet=("5.3", "5.3.2"))  # the next inventory: still offered
    assert autoupdates.apply_rules() == []

    inventory(site, akismet=("5.3", "5.3.3"))  # a newer release: worth a try
    assert len(autoupdates.apply_rules()) == 1


def test_sites_that_cannot_run_updates_are_not_considered(site):
    rules(site, auto_minor_core=True)
    site.connection = Connection.WP_REST
    site.save()
    inventory(site, core=("6.4.2", "6.4.3"))
    assert autoupdates.apply_rules() == []


def test_the_command_applies_the_rules_and_says_what_it_asked_for(site, capsys):
    rules(site, auto_minor_core=True)
    inventory(site, core=("6.4.2", "6.4.3"))

    call_command("maintenance", "auto-updates")

    out = capsys.readouterr().out
    assert "(minor WordPress release): WordPress 6.4.2 → 6.4.3" in out
    assert "1 update run(s) requested." in out


def test_the_task_is_there_for_the_scheduler(site):
    from caredesk.maintenance import tasks

    rules(site, auto_minor_core=True)
    inventory(site, core=("6.4.2", "6.4.3"))
    assert tasks.apply_auto_updates.call() == 1


def test_core_is_left_out_where_there_can_be_no_full_backup(site):
    rules(site, auto_minor_core=True, auto_monthly=True, auto_window_day=1, auto_window_hour=0)
    site.connection = Connection.WP_CLI_SSH
    site.save()
    inventory(site, core=("6.4.2", "6.4.3"), akismet=("5.3", "5.3.2"))

    autoupdates.apply_rules()

    assert requested(site) == [(["plugin:akismet", "theme:astra"], "auto: monthly window")]
