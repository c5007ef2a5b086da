"""The vulnerability feed: importing the Wordfence Intelligence format, matching versions."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from caredesk.maintenance import actions
from caredesk.maintenance.connectors import Inventory, Item
from caredesk.maintenance.models import AffectedSoftware, Vulnerability
from caredesk.maintenance.scan import feed, vulns

FEED = Path(__file__).parent / "feeds" / "wordfence-small.json"
TEST_PLUGIN_VULN = "3f1c2a4e-7b9d-4c1e-9a5f-0d2e6b8c1a01"


def feed_records() -> dict:
    return json.loads(FEED.read_bytes())


# ---- import -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_fixture_feed_imports_whole():
    report = feed.import_feed(FEED.read_bytes())

    assert report.imported == 6 and report.skipped == []
    assert report.summary() == "6 vulnerabilities imported"
    cf7 = Vulnerability.objects.get(cve="CVE-2020-35489")
    assert (cf7.cvss_score, cf7.cvss_rating) == (Decimal("10.0"), "Critical")
    assert cf7.cvss_vector.startswith("CVSS:3.1/AV:N")
    assert cf7.published.isoformat() == "2020-12-17T00:00:00+00:00"
    software = cf7.software.get()
    assert (software.kind, software.slug, software.patched_versions) == (
        "plugin",
        "contact-form-7",
        ["5.3.2"],
    )
    assert software.ranges == [
        {"from": "*", "from_inclusive": True, "to": "5.3.1", "to_inclusive": True}
    ]
    core = AffectedSoftware.objects.get(kind="core")
    assert core.slug == "wordpress"
    informational = Vulnerability.objects.get(feed_id="f9e8d7c6-b5a4-4f3e-9d2c-1b0a9f8e7d06")
    assert informational.informational and informational.cvss_score is None


@pytest.mark.django_db
def test_bad_records_are_skipped_and_counted_and_the_rest_is_stored():
    records = feed_records()
    records["no-title"] = {"id": "no-title", "software": []}
    records["not-an-object"] = ["a", "list"]
    records["software-not-a-list"] = {"id": "software-not-a-list", "title": "X", "software": {}}
    records["no-ranges"] = {
        "id": "no-ranges",
        "title": "Y",
        "software": [{"type": "plugin", "slug": "y", "affected_versions": {}}],
    }
    records["bad-range"] = {
        "id": "bad-range",
        "title": "Z",
        "software": [
            {"type": "plugin", "slug": "z", "affected_versions": {"x": {"from_version": 1}}}
        ],
    }
    records["bad-patched"] = {
        "id": "bad-patched",
        "title": "W",
        "software": [
            {
                "type": "plugin",
                "slug": "w",
                "affected_versions": {"* - 1": {"from_version": "*", "to_version": "1"}},
                "patched_versions": [1.1],
            }
        ],
    }

    report = feed.import_feed(json.dumps(records).encode())

    assert report.imported == 6
    assert len(report.skipped) == 6
    reasons = dict(line.split(": ", 1) for line in report.skipped)
    assert reasons["no-title"] == "no title"
    assert reasons["not-an-object"] == "not an object"
    assert reasons["software-not-a-list"] == "software must be a list"
    assert "non-empty" in reasons["no-ranges"]
    assert "from_version" in reasons["bad-range"]
    assert "patched_versions" in reasons["bad-patched"]
    assert report.summary() == "6 vulnerabilities imported, 6 records skipped"
    # A skipped record is not half-stored: neither it nor its software is there.
    assert not Vulnerability.objects.filter(feed_id__in=list(reasons)).exists()
    assert not AffectedSoftware.objects.filter(slug__in=["y", "z", "w"]).exists()


@pytest.mark.django_db
def test_importing_the_same_feed_again_gives_the_same_rows():
    feed.import_feed(FEED.read_bytes())
    first = sorted(Vulnerability.objects.values_list("feed_id", "title", "cvss_score"))
    software = AffectedSoftware.objects.count()

    again = feed.import_feed(FEED.read_bytes())

    assert again.imported == 6
    assert sorted(Vulnerability.objects.values_list("feed_id", "title", "cvss_score")) == first
    assert AffectedSoftware.objects.count() == software


@pytest.mark.django_db
def test_a_newer_copy_of_a_record_replaces_the_old_one():
    feed.import_feed(FEED.read_bytes())
    records = {TEST_PLUGIN_VULN: feed_records()[TEST_PLUGIN_VULN]}
    records[TEST_PLUGIN_VULN]["cvss"]["score"] = 9.1
    records[TEST_PLUGIN_VULN]["software"][0]["patched_versions"] = ["1.0.2"]

    feed.import_feed(json.dumps(records).encode())

    vulnerability = Vulnerability.objects.get(feed_id=TEST_PLUGIN_VULN)
    assert vulnerability.cvss_score == Decimal("9.1")
    assert vulnerability.software.get().patched_versions == ["1.0.2"]
    assert Vulnerability.objects.count() == 6


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"<html>not json", "not a JSON file"), (b"[1, 2]", "one JSON object of records")],
)
def test_a_file_that_is_no_feed_at_all_is_refused(data, message):
    with pytest.raises(feed.FeedError, match=message):
        feed.import_feed(data)


# ---- matching -----------------------------------------------------------------------------


def rng(low, high, low_inclusive=True, high_inclusive=True):
    return {
        "from": low,
        "from_inclusive": low_inclusive,
        "to": high,
        "to_inclusive": high_inclusive,
    }


MATCHES = [
    # (installed version, ranges, affected?)
    ("1.0.0", [rng("*", "1.0.0")], True),
    ("0.1", [rng("*", "1.0.0")], True),
    ("1.0.1", [rng("*", "1.0.0")], False),
    ("1.0.0", [rng("*", "1.0.0", high_inclusive=False)], False),
    ("0.9.9", [rng("*", "1.0.0", high_inclusive=False)], True),
    ("9.9", [rng("2.0", "*")], True),
    ("1.9", [rng("2.0", "*")], False),
    ("2.0", [rng("2.0", "*", low_inclusive=False)], False),
    ("2.0.1", [rng("2.0", "*", low_inclusive=False)], True),
    ("1.2", [rng("1.2", "1.4", False, False)], False),
    ("1.3", [rng("1.2", "1.4", False, False)], True),
    ("1.4", [rng("1.2", "1.4", False, False)], False),
    # PHP ordering, not semver: 1.2 < 1.2.0 < 1.2.0.1
    ("1.2.0", [rng("1.2", "1.4", False, False)], True),
    ("1.2.0", [rng("*", "1.2")], False),
    ("1.2", [rng("1.2.0", "*")], False),
    # A pre-release comes before its release.
    ("1.2.3-beta1", [rng("*", "1.2.3", high_inclusive=False)], True),
    ("1.2.3-beta1", [rng("1.2.3", "*")], False),
    ("1.2.3-beta1", [rng("1.2.3-alpha", "1.2.3-beta1")], True),
    ("1.2.3-RC1", [rng("1.2.3-beta1", "1.2.3", high_inclusive=False)], True),
    (
        "2.0.0-beta1",
        [rng("1.2", "1.4", False, False), rng("2.0.0-beta1", "2.0.0", True, False)],
        True,
    ),
    ("6.1.1", [rng("6.1", "6.1.1")], True),
    ("6.1.10", [rng("6.1", "6.1.1")], False),
    ("anything", [rng("*", "*")], True),
]


@pytest.mark.parametrize(("version", "ranges", "expected"), MATCHES)
def test_ranges_follow_php_version_compare(version, ranges, expected):
    assert vulns.affected(version, ranges) is expected


FIXES = [
    # (installed, patched versions, what to update to)
    ("1.0.0", ["1.1.0", "1.0.1", "0.9.9"], "1.0.1"),  # the lowest above the installed one
    ("1.0.1", ["1.1.0", "1.0.1"], "1.1.0"),  # never the installed version itself
    ("1.2", ["1.2.0", "1.3"], "1.2.0"),  # 1.2.0 is newer than 1.2
    ("1.2.3-beta1", ["1.2.3", "1.2.4"], "1.2.3"),
    ("5.3.1", ["5.3.2"], "5.3.2"),
    ("2.0", ["1.9"], ""),  # only older patches: no fix known for this line
    ("1.0", [], ""),
]


@pytest.mark.parametrize(("installed", "patched", "expected"), FIXES)
def test_fixed_in_is_the_lowest_patched_version_above_the_installed_one(
    installed, patched, expected
):
    assert vulns.fixed_in(installed, patched) == expected


@pytest.mark.django_db
def test_a_snapshot_is_matched_with_severity_cvss_and_fixed_in(site_a):
    feed.import_feed(FEED.read_bytes())
    snapshot = actions.do_record_inventory(
        site_a,
        Inventory(
            "6.1.1",
            "8.2",
            [
                Item("core", "wordpress", "WordPress", "6.1.1", True),
                Item("plugin", "caredesk-test", "caredesk test plugin", "1.0.0", True),
                Item("plugin", "contact-form-7", "Contact Form 7", "5.3.2", True),  # patched
                Item("plugin", "gallery-grid", "Gallery Grid", "1.2.0", False),
                Item("plugin", "old-slider", "Old Slider", "3.0", True),
                Item("theme", "caredesk-plain", "caredesk plain", "1.0", True),
                # The same slug as a plugin of the feed, but a theme: not the same software.
                Item("theme", "contact-form-7", "A theme", "1.0", False),
            ],
        ),
    )

    found = {f.item_slug: f for f in vulns.match(snapshot)}

    assert set(found) == {
        "wordpress",
        "caredesk-test",
        "gallery-grid",
        "old-slider",
        "caredesk-plain",
    }
    test = found["caredesk-test"]
    assert (test.severity, test.cvss_score, test.fixed_in) == ("high", Decimal("8.8"), "1.0.1")
    assert test.title.endswith("(CVE-2099-10001)")
    assert test.key == f"vuln:{TEST_PLUGIN_VULN}:plugin:caredesk-test"
    assert test.advice == "Update caredesk test plugin to 1.0.1 or later."
    assert test.installed_version == "1.0.0"
    assert (found["wordpress"].item_kind, found["wordpress"].fixed_in) == ("core", "6.1.2")
    assert found["gallery-grid"].severity == "medium"
    assert found["old-slider"].severity == "low"  # no score: the feed's rating
    theme = found["caredesk-plain"]
    assert theme.fixed_in == ""
    assert theme.advice.startswith("No known patch available")
