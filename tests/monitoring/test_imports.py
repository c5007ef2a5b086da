"""``caredesk monitors import``: checked whole, every error by line, nothing half-imported."""

import pytest
from django.core.management import CommandError, call_command

from caredesk.clients.models import Site
from caredesk.monitoring.imports import import_monitors
from caredesk.monitoring.models import Kind, Monitor

pytestmark = pytest.mark.django_db


def csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_a_clean_file_creates_and_updates_monitors(site_a, site_b):
    data = csv(
        "url,site,kind,interval,keyword,allow_private",
        "https://alpha.example/,Alpha shop,,30,Alpha,",  # the site's own monitor: updated
        "https://alpha.example/contact,Alpha shop,http,120,,",
        f"beta.example,{site_b.pk},tls,3600,,",
        "10.0.0.8:3306,beta site,tcp,,,yes",
    )
    report = import_monitors(data, dry_run=False)
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (3, 1, 0)
    default = Monitor.objects.get(site=site_a, is_default=True)
    assert (default.interval_seconds, default.keyword) == (30, "Alpha")
    tls = Monitor.objects.get(kind=Kind.TLS)
    assert (tls.site, tls.host, tls.port) == (site_b, "beta.example", 443)
    tcp = Monitor.objects.get(kind=Kind.TCP)
    assert (tcp.host, tcp.port, tcp.allow_private) == ("10.0.0.8", 3306, True)
    again = import_monitors(data, dry_run=False)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)


def test_a_dry_run_writes_nothing(site_a):
    report = import_monitors(csv("url,site", "https://alpha.example/blog,Alpha shop"), dry_run=True)
    assert report.created == 1
    assert Monitor.objects.count() == 1
    assert report.summary() == "1 monitor(s): 1 would be created, 0 would be updated, 0 unchanged"


def test_every_bad_row_is_reported_by_line_and_nothing_is_imported(site_a, org_a):
    Site.objects.create(organisation=org_a, name="Twin", url="https://twin1.example/")
    Site.objects.create(organisation=org_a, name="Twin", url="https://twin2.example/")
    data = csv(
        "url,site,kind,interval",
        "https://alpha.example/ok,Alpha shop,,60",
        "https://alpha.example/x,Nobody,,60",
        "",
        "https://alpha.example/y,Alpha shop,,10",
        "https://alpha.example/z,Alpha shop,smtp,60",
        "alpha.example,Alpha shop,tcp,60",
        "https://alpha.example/ok,Alpha shop,,60",
        "https://twin1.example/,Twin,,60",
        "https://alpha.example/w,Alpha shop,,often",
    )
    report = import_monitors(data, dry_run=False)
    assert report.errors == [
        (3, "site 'Nobody' does not exist (import sites first)"),
        (5, "interval_seconds: Ensure this value is greater than or equal to 30."),
        (6, "kind must be one of http, tls, tcp, dns, heartbeat"),
        (7, "a TCP monitor needs host:port, not 'alpha.example'"),
        (8, "duplicate of line 2"),
        (9, "several sites are called 'Twin'; use the site id or organisation"),
        (10, "interval must be a whole number, not 'often'"),
    ]
    assert report.summary() == "7 error(s) in 8 row(s); nothing imported"
    assert not Monitor.objects.filter(url__startswith="https://alpha.example/ok").exists()


def test_unknown_columns_and_bad_encodings_are_refused_whole(site_a):
    assert (
        import_monitors(csv("url,site,colour"), dry_run=True)
        .errors[0][1]
        .startswith("unknown column(s): colour")
    )
    assert import_monitors(b"url,site\n\xff\xfe,x\n", dry_run=True).errors == [
        (0, "the file is not UTF-8 (byte 9); save it as 'CSV UTF-8' and try again")
    ]


def test_the_command_reports_like_the_other_imports(site_a, tmp_path, capsys):
    good = tmp_path / "sites.csv"
    good.write_bytes(csv("url,site,interval", "https://alpha.example/,Alpha shop,300"))
    call_command("monitors", "import", str(good), "--dry-run")
    assert (
        "Dry run: 1 monitor(s): 0 would be created, 1 would be updated" in capsys.readouterr().out
    )
    call_command("monitors", "import", str(good))
    assert Monitor.objects.get(site=site_a).interval_seconds == 300
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv("url,site", "https://alpha.example/,Nobody"))
    with pytest.raises(CommandError, match="1 error"):
        call_command("monitors", "import", str(bad))
    assert f"{bad}:line 2: site 'Nobody' does not exist" in capsys.readouterr().err


def test_a_row_may_set_how_many_regions_must_agree(site_a):
    data = csv("url,site,quorum", "https://alpha.example/,Alpha shop,1")
    assert import_monitors(data, dry_run=False).ok
    assert Monitor.objects.get(site=site_a).quorum == 1
    bad = import_monitors(
        csv("url,site,quorum", "https://alpha.example/,Alpha shop,11"), dry_run=False
    )
    assert not bad.ok


def test_dns_records_and_heartbeats_come_in_by_csv_too(site_a):
    data = csv(
        "site,kind,url,record_type,expected_values,name,key,interval,grace",
        "Alpha shop,dns,https://alpha.example/,A,192.0.2.1,,,,",
        "Alpha shop,dns,alpha.example,MX,10 mx.alpha.example,,,,",
        "Alpha shop,heartbeat,,,,Nightly export,,,",
        "Alpha shop,heartbeat,,,,Backup,backup,2592000,172800",
    )
    report = import_monitors(data, dry_run=False)
    assert report.ok, report.errors
    assert report.created == 4
    a_record = Monitor.objects.get(kind=Kind.DNS, record_type="A")
    assert (a_record.host, a_record.expected_values) == ("alpha.example", "192.0.2.1")
    nightly = Monitor.objects.get(name="Nightly export")
    assert (nightly.kind, nightly.interval_seconds) == (Kind.HEARTBEAT, 86400)  # daily by default
    backup = Monitor.objects.get(key="backup")
    assert (backup.interval_seconds, backup.grace_seconds) == (2592000, 172800)
    assert import_monitors(data, dry_run=False).unchanged == 4
