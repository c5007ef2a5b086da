"""Building, holding and editing reports: who may, what is logged, what a sent report keeps."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from caredesk.reports import actions
from caredesk.reports.models import EventKind, Report, ReportState


def test_build_makes_one_report_per_client_with_a_site_and_logs_it(built, org_a, org_b):
    assert set(built) == {org_a.pk, org_b.pk}
    report = built[org_a.pk]
    assert report.state == ReportState.DRAFT and report.built_at is not None
    assert bytes(report.pdf).startswith(b"%PDF") and "Alpha Bakery" in report.html
    assert report.events.get().kind == EventKind.BUILT


def test_building_again_replaces_a_draft_but_keeps_a_sent_report_as_it_went_out(
    built, org_a, org_b
):
    actions.do_send(built[org_a.pk])
    sent_pdf = bytes(Report.objects.get(organisation=org_a).pdf)
    again = actions.do_build_reports(2026, 10)
    assert [r.organisation_id for r in again] == [org_b.pk]
    assert bytes(Report.objects.get(organisation=org_a).pdf) == sent_pdf
    assert Report.objects.count() == 2


def test_a_site_builds_its_clients_whole_report(quiet_month, site_a, org_a):
    [report] = actions.do_build_reports(2026, 10, sites=[site_a.pk])
    assert report.organisation_id == org_a.pk
    assert [s["name"] for s in report.facts["sites"]] == ["Alpha shop"]


def test_unknown_clients_and_sites_are_named_in_the_error(quiet_month):
    with pytest.raises(ValidationError, match="No client with id 424242"):
        actions.do_build_reports(2026, 10, organisations=[424242])
    with pytest.raises(ValidationError, match="No site with id 515151"):
        actions.do_build_reports(2026, 10, sites=[515151])


def test_clients_cannot_change_reports(built, org_a, manager_a):
    with pytest.raises(PermissionDenied):
        actions.do_hold(built[org_a.pk], acting_user=manager_a)
    with pytest.raises(PermissionDenied):
        actions.do_set_intro(built[org_a.pk], "Hello", acting_user=manager_a)
    with pytest.raises(PermissionDenied):
        actions.do_build_reports(2026, 10, acting_user=manager_a)


def test_hold_and_release_are_logged_once_each(built, org_a, staff):
    report = actions.do_hold(built[org_a.pk], acting_user=staff, reason="Waiting for the fix")
    actions.do_hold(report, acting_user=staff)  # already held: no second entry
    assert report.held
    report = actions.do_release(report, acting_user=staff)
    kinds = list(report.events.values_list("kind", "note"))
    assert kinds == [("built", "1 site(s)"), ("held", "Waiting for the fix"), ("released", "")]


def test_a_sent_report_cannot_be_held(built, org_a, staff):
    actions.do_send(built[org_a.pk])
    with pytest.raises(ValidationError, match="sent already"):
        actions.do_hold(Report.objects.get(organisation=org_a), acting_user=staff)


def test_an_overlong_intro_is_refused_with_the_limit(built, org_a, staff):
    with pytest.raises(ValidationError, match="4000 characters"):
        actions.do_set_intro(built[org_a.pk], "x" * 4001, acting_user=staff)


def test_resending_a_report_nobody_receives_says_so(built, org_b, staff):
    from caredesk.clients.models import Contact

    Contact.objects.filter(organisation=org_b).update(is_report_recipient=False)
    with pytest.raises(ValidationError, match="no report recipients"):
        actions.do_resend(built[org_b.pk], acting_user=staff)
