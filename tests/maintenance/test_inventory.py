"""Inventories, their differences and the append-only maintenance log."""

import pytest
import time_machine
from django.core.exceptions import ValidationError

from caredesk.maintenance import actions
from caredesk.maintenance.connectors import Inventory, Item
from caredesk.maintenance.inventory import Seen, differences
from caredesk.maintenance.models import AppendOnly, Change, LogEntry, Snapshot, Source


def inventory(core="6.4.2", php="8.2.1", **plugins):
    items = [Item("core", "wordpress", "WordPress", core, True)] if core else []
    items += [
        Item("plugin", slug, slug.title(), version, True) for slug, version in plugins.items()
    ]
    return Inventory(core, php, items)


def seen(**versions):
    return {("plugin", s): Seen("plugin", s, s.title(), v) for s, v in versions.items()}


def test_differences_name_updates_installs_removals_and_downgrades():
    found = differences(
        seen(akismet="5.3", jetpack="13.0", hello="1.7", forms="2.0"),
        seen(akismet="5.3.1", jetpack="12.9", forms="2.0", yoast="22.0"),
    )
    assert [(d.slug, d.change, d.from_version, d.to_version) for d in found] == [
        ("akismet", Change.UPDATED, "5.3", "5.3.1"),
        ("hello", Change.REMOVED, "1.7", ""),
        ("jetpack", Change.DOWNGRADED, "13.0", "12.9"),
        ("yoast", Change.INSTALLED, "", "22.0"),
    ]


def test_updated_follows_php_ordering_not_text():
    found = differences(seen(a="1.9"), seen(a="1.10"))
    assert found[0].change == Change.UPDATED


def test_core_unknown_on_one_side_is_no_change():
    before = {("core", "wordpress"): Seen("core", "wordpress", "WordPress", "6.4.2")}
    assert differences(before, {}) == []


@pytest.mark.django_db
def test_first_inventory_logs_nothing_later_ones_log_the_changes(site_a, staff):
    with time_machine.travel("2026-11-01 09:00Z"):
        actions.do_record_inventory(site_a, inventory(akismet="5.3"), acting_user=staff)
    assert LogEntry.objects.count() == 0
    with time_machine.travel("2026-11-02 09:00Z"):
        second = actions.do_record_inventory(
            site_a, inventory(core="6.4.3", php="8.3.0", akismet="5.3.1")
        )

    log = {(e.kind, e.from_version, e.to_version) for e in LogEntry.objects.all()}
    assert log == {
        ("core", "6.4.2", "6.4.3"),
        ("php", "8.2.1", "8.3.0"),
        ("plugin", "5.3", "5.3.1"),
    }
    entry = LogEntry.objects.get(kind="plugin")
    assert entry.source == Source.INVENTORY
    assert entry.snapshot == second
    assert entry.at == second.taken_at


@pytest.mark.django_db
def test_log_entries_cannot_be_changed_or_deleted(site_a, staff):
    entry = actions.do_log_work(site_a, acting_user=staff, name="Cleared spam comments")
    entry.note = "rewritten history"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    assert LogEntry.objects.get(pk=entry.pk).note == ""


@pytest.mark.django_db
def test_staff_log_work_done_elsewhere_with_versions(site_a, staff):
    with time_machine.travel("2026-11-10 12:00Z"):
        entry = actions.do_log_work(
            site_a,
            acting_user=staff,
            kind="plugin",
            slug="woocommerce",
            name="WooCommerce",
            from_version="8.0",
            to_version="8.1",
            note="Updated on staging first, then live.",
        )
    assert (entry.change, entry.source, entry.user) == (Change.UPDATED, Source.MANUAL, staff)
    assert str(entry) == "WooCommerce: 8.0 → 8.1"


@pytest.mark.django_db
def test_log_work_refuses_nonsense(site_a, staff):
    with pytest.raises(ValidationError):
        actions.do_log_work(site_a, acting_user=staff, name="  ")
    with pytest.raises(ValidationError):
        actions.do_log_work(site_a, acting_user=staff, name="x", kind="spaceship")


@pytest.mark.django_db
def test_duplicate_items_in_an_answer_are_stored_once(site_a):
    doubled = Inventory(
        "6.4", "8.2", [Item("plugin", "a", "A", "1"), Item("plugin", "a", "A", "1")]
    )
    snapshot = actions.do_record_inventory(site_a, doubled)
    assert snapshot.items.count() == 1
    assert Snapshot.objects.count() == 1
