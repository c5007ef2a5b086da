"""The ticket page over htmx: each change answers with the parts it touched, swapped in place;
without htmx the same forms redirect back to the page."""

import re
from datetime import timedelta

import pytest

from caredesk.billing.models import TimeEntry
from caredesk.kb import actions as kb_actions
from caredesk.kb.models import Article, Visibility
from caredesk.kb.models import Category as KbCategory
from caredesk.kb.models import Status as KbStatus
from caredesk.monitoring.models import Monitor
from caredesk.tickets import actions
from caredesk.tickets.models import Message

from .conftest import WEDNESDAY_9, history, outage

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def swapped(response) -> set[str]:
    return set(re.findall(r'id="([\w-]+)"[^>]*hx-swap-oob="true"', response.content.decode()))


def test_htmx_reply_swaps_conversation_form_clocks_and_history(desk, form_ticket):
    response = desk.post(
        f"/tickets/{form_ticket.number}/reply",
        {"kind": "public_reply", "body": "We are on it.", "status": ""},
        **HTMX,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page
    assert swapped(response) == {
        "conversation",
        "reply",
        "summary",
        "sla",
        "properties",
        "history",
        "flash",
    }
    assert "We are on it." in page
    assert "Reply to client saved." in page
    assert "met " in page  # the first-response clock stopped
    # The reply box comes back empty for the next message.
    assert re.search(r'<textarea name="body"[^>]*>\s*</textarea>', page)


def test_htmx_reply_with_errors_answers_400_with_the_form_only(desk, form_ticket):
    response = desk.post(
        f"/tickets/{form_ticket.number}/reply", {"kind": "public_reply", "body": " "}, **HTMX
    )
    assert response.status_code == 400
    assert swapped(response) == {"reply"}
    assert "Write something first." in response.content.decode()
    assert form_ticket.messages.count() == 1


def test_htmx_properties_swap_the_summary_and_clocks(desk, omar, form_ticket):
    response = desk.post(
        f"/tickets/{form_ticket.number}/properties",
        {"status": "open", "assignee": omar.pk, "priority": form_ticket.priority_id},
        **HTMX,
    )
    assert response.status_code == 200
    assert swapped(response) == {"properties", "summary", "sla", "history", "flash"}
    assert "Omar Haddad" in response.content.decode()
    form_ticket.refresh_from_db()
    assert form_ticket.assignee == omar


def test_htmx_log_time_swaps_the_time_card(desk, form_ticket):
    response = desk.post(f"/tickets/{form_ticket.number}/time", {"minutes": "20"}, **HTMX)
    assert response.status_code == 200
    assert swapped(response) == {"time", "history", "flash"}
    assert "20 min logged." in response.content.decode()
    assert TimeEntry.objects.get(ticket=form_ticket).minutes == 20


def test_htmx_bad_time_shows_the_error_in_the_time_card(desk, form_ticket):
    response = desk.post(f"/tickets/{form_ticket.number}/time", {"minutes": "0"}, **HTMX)
    assert response.status_code == 400
    assert swapped(response) == {"time"}
    assert "Time not logged." in response.content.decode()
    assert not TimeEntry.objects.exists()


def test_htmx_timer_start_and_stop(desk, form_ticket, clock_at):
    first = desk.post(f"/tickets/{form_ticket.number}/timer", **HTMX)
    assert "Timer started." in first.content.decode()
    assert "Stop timer" in first.content.decode()
    clock_at.shift(10 * 60)
    second = desk.post(f"/tickets/{form_ticket.number}/timer", **HTMX)
    assert "10 min logged" in second.content.decode()


def test_without_htmx_the_forms_redirect_back_to_the_page(desk, form_ticket):
    response = desk.post(
        f"/tickets/{form_ticket.number}/reply", {"kind": "internal_note", "body": "Note"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{form_ticket.number}/"
    assert Message.objects.filter(ticket=form_ticket, kind="internal_note").exists()
    page = desk.get(response["Location"]).content.decode()
    assert "Internal note saved." in page


def test_page_loads_htmx_and_sends_the_csrf_token_with_it(desk, form_ticket):
    page = desk.get(f"/tickets/{form_ticket.number}/").content.decode()
    assert "caredesk/htmx-2.0.11.min.js" in page
    assert '"X-CSRFToken"' in page
    assert f'hx-post="/tickets/{form_ticket.number}/reply"' in page
    assert f'action="/tickets/{form_ticket.number}/reply"' in page


def test_ticket_page_shows_the_plan_and_the_sites_monitors(desk, form_ticket, clock_at):
    site = form_ticket.organisation.sites.first()
    ticket = actions.do_create_ticket(
        subject="Site down",
        body="It is down",
        channel="portal",
        requester=form_ticket.requester,
        site=site,
    )
    monitor = Monitor.objects.get(site=site)
    Monitor.objects.filter(pk=monitor.pk).update(enabled=True, state="up")
    history(monitor, WEDNESDAY_9, 48)
    outage(monitor, WEDNESDAY_9 - timedelta(days=2), 30, cause="HTTP 502 Bad Gateway")
    page = desk.get(f"/tickets/{ticket.number}/").content.decode()
    assert "KIJO Care" in page
    assert f'href="/sites/{site.pk}/"' in page
    assert 'class="state up"' in page
    assert "Uptime this month" in page
    assert "HTTP 502 Bad Gateway" in page


def test_reply_box_finds_help_articles_to_link(desk, form_ticket, staff):
    page = desk.get(f"/tickets/{form_ticket.number}/").content.decode()
    assert 'data-kb-target="#id_body"' in page
    assert 'hx-get="/kb/staff/lookup"' in page and "kb/lookup.js" in page
    category = KbCategory.objects.create(name="Help", slug="help")
    kb_actions.do_save_article(
        Article(),
        acting_user=staff,
        title="Restoring a backup",
        slug="restoring-a-backup",
        body="Ask us by ticket; we restore within the plan's target.",
        category=category,
        status=KbStatus.PUBLISHED,
        visibility=Visibility.PUBLIC,
    )
    found = desk.get("/kb/staff/lookup", {"q": "backup"}).content.decode()
    assert 'data-kb-insert="[Restoring a backup](http' in found
