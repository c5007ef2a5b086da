"""Raising a ticket: the promise and the scope are told at once, and before submitting."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from caredesk.clients.models import Site
from caredesk.kb import actions as kb_actions
from caredesk.kb.models import Article, SuggestionSession, Visibility
from caredesk.kb.models import Category as KbCategory
from caredesk.kb.models import Status as KbStatus
from caredesk.mail.models import OutboundEmail
from caredesk.plans.models import Subscription
from caredesk.tickets.models import Channel, Ticket

pytestmark = pytest.mark.django_db


def raise_one(client, follow=True, **fields):
    data = {"subject": "Gallery broken", "description": "Images do not load.", **fields}
    return client.post("/portal/tickets/new/", data, follow=follow)


def test_form_offers_the_plans_categories_and_the_clients_sites(
    as_requester, site_a, site_b, categories
):
    page = as_requester.get("/portal/tickets/new/").content.decode()
    assert "Bug fix" in page and "New feature" in page
    assert "Training" not in page  # the plan says nothing about it
    assert "Alpha shop" in page
    assert "Beta site" not in page


def test_kb_suggestions_region_sits_under_the_subject_that_asks_for_them(as_requester):
    page = as_requester.get("/portal/tickets/new/").content.decode()
    assert '<div id="kb-suggestions" aria-live="polite"></div>' in page
    assert (
        page.index('name="subject"') < page.index("kb-suggestions") < page.index('name="category"')
    )
    assert 'hx-get="/kb/suggest"' in page and 'hx-target="#kb-suggestions"' in page


def test_a_ticket_raised_after_suggestions_counts_against_deflection(as_requester, staff):
    category = KbCategory.objects.create(name="Help", slug="help")
    kb_actions.do_save_article(
        Article(),
        acting_user=staff,
        title="The gallery does not load",
        slug="gallery",
        body="Clear the cache, then reload the gallery page.",
        category=category,
        status=KbStatus.PUBLISHED,
        visibility=Visibility.PORTAL,
    )
    fragment = as_requester.get("/kb/suggest", {"q": "gallery"}).content.decode()
    assert "The gallery does not load" in fragment
    token = re.search(r'name="kb_suggestion" value="([^"]+)"', fragment).group(1)

    raise_one(as_requester, subject="Gallery broken", kb_suggestion=token)

    session = SuggestionSession.objects.get(token=token)
    assert session.ticket_id == Ticket.objects.get(subject="Gallery broken").pk


def test_a_forged_suggestion_token_does_not_stop_the_ticket(as_requester):
    response = raise_one(as_requester, kb_suggestion="<script>\x00")
    assert response.status_code == 200
    assert Ticket.objects.filter(subject="Gallery broken").exists()


def test_category_select_asks_for_the_scope_notice_as_it_changes(as_requester):
    page = as_requester.get("/portal/tickets/new/").content.decode()
    assert 'hx-get="/portal/tickets/new/scope/"' in page
    assert 'hx-target="#scope-notice"' in page


def test_scope_notice_for_an_included_category(as_requester, categories):
    response = as_requester.get(f"/portal/tickets/new/scope/?category={categories['bug-fix'].pk}")
    assert b"Included in your plan.</strong> Bug fix is covered by KIJO Care." in response.content


def test_scope_notice_for_an_excluded_category_names_the_rate(as_requester, categories):
    response = as_requester.get(
        f"/portal/tickets/new/scope/?category={categories['new-feature'].pk}"
    )
    body = response.content.decode()
    assert "Billable work." in body
    assert "New feature is not included in KIJO Care; it is billed per hour." in body
    assert "85.00 GBP an hour" in body


@pytest.mark.parametrize("value", ["", "abc", "²", "-1", "999999999999999999999999", "0"])
def test_scope_notice_for_odd_values_is_the_plans_default(as_requester, value):
    response = as_requester.get("/portal/tickets/new/scope/", {"category": value})
    assert response.status_code == 200
    assert b"Included in your plan</strong> unless the team finds" in response.content


def test_scope_notice_for_a_client_without_a_plan_is_billable(as_other, categories):
    response = as_other.get(f"/portal/tickets/new/scope/?category={categories['bug-fix'].pk}")
    assert b"No plan: work is on demand and billed per hour." in response.content


def test_new_ticket_shows_the_promise_and_inside_plan(as_requester, categories, site_a):
    response = raise_one(as_requester, category=categories["bug-fix"].pk, site=site_a.pk)

    ticket = Ticket.objects.get()
    assert response.redirect_chain[-1][0] == f"/portal/tickets/{ticket.number}/"
    page = response.content.decode()
    assert f"We have received your request: ticket {ticket.reference}." in page
    assert "Thank you, we have your request." in page
    assert "You can expect our first response <strong>by Tue 24 Nov, 12:00</strong>" in page
    assert "Included in your plan." in page
    assert ticket.channel == Channel.PORTAL
    assert ticket.requester.email == "rob@alpha.example"
    assert ticket.site == site_a
    assert not ticket.billable


def test_new_ticket_in_an_excluded_category_is_billable_with_the_rate(as_requester, categories):
    page = raise_one(as_requester, category=categories["new-feature"].pk).content.decode()

    assert Ticket.objects.get().billable
    assert "Billable work." in page
    assert "85.00 GBP an hour" in page
    assert "by Tue 24 Nov, 12:00" in page


def test_critical_category_gets_the_shorter_promise(as_requester, categories):
    # KIJO: a contact form not working is critical, 4 business hours.
    page = raise_one(as_requester, category=categories["contact-form"].pk).content.decode()
    assert "by Mon 23 Nov, 16:00" in page


def test_client_is_also_mailed_the_confirmation(as_requester):
    raise_one(as_requester)
    mail = OutboundEmail.objects.get(kind="confirmation")
    assert mail.to == ["rob@alpha.example"]
    assert "by Tue 24 Nov, 12:00" in mail.text


def test_files_go_on_the_first_message(as_requester):
    shot = SimpleUploadedFile("error.png", b"\x89PNG...", "image/png")
    raise_one(as_requester, files=[shot])
    message = Ticket.objects.get().messages.get()
    assert [a.filename for a in message.attachments.all()] == ["error.png"]


def test_refused_file_keeps_what_was_typed_and_raises_nothing(as_requester):
    bad = SimpleUploadedFile("tool.bat", b"echo", "text/plain")
    response = raise_one(as_requester, follow=False, files=[bad], subject="Keep me")
    assert response.status_code == 400
    assert b"tool.bat: files of type .bat are not accepted" in response.content
    assert b'value="Keep me"' in response.content
    assert not Ticket.objects.exists()


def test_too_many_files_are_refused(as_requester):
    files = [SimpleUploadedFile(f"f{n}.txt", b"x", "text/plain") for n in range(11)]
    response = raise_one(as_requester, follow=False, files=files)
    assert response.status_code == 400
    assert b"at most 10 files" in response.content


def test_another_clients_site_is_refused(as_requester, site_a, site_b):
    response = raise_one(as_requester, follow=False, site=site_b.pk)
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_inactive_site_is_not_offered(as_requester, site_a):
    Site.objects.filter(pk=site_a.pk).update(is_active=False)
    assert b"Alpha shop" not in as_requester.get("/portal/tickets/new/").content


@pytest.mark.parametrize(
    "fields",
    [
        {"subject": ""},
        {"description": ""},
        {"subject": "nul\x00byte"},
        {"description": "nul\x00byte"},
        {"subject": "s" * 201},
        {"description": "d" * 20_001},
        {"category": "abc"},
        {"category": "99999999999999999999999"},
        {"site": "-3"},
    ],
)
def test_bad_input_is_told_not_crashed(as_requester, site_a, fields):
    response = raise_one(as_requester, follow=False, **fields)
    assert response.status_code == 400
    assert b"field-error" in response.content
    assert not Ticket.objects.exists()


def test_client_without_a_plan_can_raise_from_every_category(as_other, categories):
    page = as_other.get("/portal/tickets/new/").content.decode()
    assert "Training" in page
    response = raise_one(as_other, category=categories["training"].pk)
    assert b"No plan: work is on demand" in response.content


def test_ended_plan_is_no_longer_offered_as_inside(as_requester, categories, client_a, traveller):
    Subscription.objects.filter(organisation=client_a).update(end_date="2026-11-01")
    response = as_requester.get(f"/portal/tickets/new/scope/?category={categories['bug-fix'].pk}")
    assert b"Billable work." in response.content
