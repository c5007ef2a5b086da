"""`caredesk reports build|send|export`: progress as it goes, clear errors on bad input."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from caredesk.mail.models import OutboundEmail
from caredesk.reports.models import Report


def run(*args) -> str:
    out = StringIO()
    call_command("reports", *args, stdout=out)
    return out.getvalue()


def test_build_prints_progress_and_a_summary(quiet_month):
    output = run("build", "--month", "2026-10")
    assert "2 client(s); 0 already sent, 2 to build" in output
    assert "built 2/2 report(s), 2 site(s)" in output
    assert "2 report(s), 2 site(s) in" in output
    assert Report.objects.count() == 2


def test_build_for_one_organisation(quiet_month, org_b):
    run("build", "--month", "2026-10", "--organisation", str(org_b.pk))
    assert list(Report.objects.values_list("organisation_id", flat=True)) == [org_b.pk]


def test_send_defaults_to_last_month_and_sends_once(built):
    assert "sent 2, held 0" in run("send")
    assert "sent 0, held 0" in run("send", "--month", "2026-10")
    assert OutboundEmail.objects.filter(kind="report").count() == 2


def test_export_writes_the_archived_pdf(built, org_a, tmp_path):
    target = tmp_path / "a.pdf"
    run("export", str(built[org_a.pk].pk), "--pdf", str(target))
    assert target.read_bytes() == bytes(built[org_a.pk].pdf)


@pytest.mark.parametrize(
    "args, message",
    [
        (("build", "--month", "2026-13"), "not a period"),
        (("build", "--month", "October"), "not a period"),
        (("build", "--month", "2026-10", "--site", "999"), "No site with id 999"),
        (("export", "999", "--pdf", "never.pdf"), "no built report with id 999"),
    ],
)
def test_bad_input_is_a_clear_error(db, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
