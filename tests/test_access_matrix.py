"""The access matrix: every URL × (anonymous, agent, admin, manager of A, contact of B).

Each route the URL resolver knows is classified in ``CASES`` (or, for the
admin's generated model pages, by one rule), and a test fails when a route
exists that the matrix does not classify, so a new page cannot ship unchecked.

A case built on one client's object (a ticket, site, article, statement…) is
asked for as that client's own contact ("own") and as the other client's
("other"), once with A's object and once with B's: the other client must get
404, never 403 and never the object. Every 200 shown to a client or a stranger
must hold none of the markers of what they may not see (the other client's
subject, site, article, attachment, contact email…; anyone's internal note).
A refused write must leave every table as it was.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from caredesk.lib import clock

from .access_matrix.world import SHARED_WORD, Side, World, build_world, changed_tables, snapshot

WEBHOOK_SECRET = "matrix:webhook-secret-not-sent-by-anyone"


# --- expected outcomes -------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    status: int
    location: str | None = None  # a redirect's target: exact, or a prefix when it ends in "="

    def check(self, response, label: str) -> None:
        assert response.status_code == self.status, (
            f"{label}: got {response.status_code}, expected {self.status}"
            + (f" (Location: {response.get('Location')})" if response.status_code == 302 else "")
        )
        if self.location is not None:
            where = response["Location"]
            if self.location.endswith("="):
                assert where.startswith(self.location), f"{label}: redirected to {where}"
            else:
                assert where == self.location, f"{label}: redirected to {where}"


OK = Expect(200)
CREATED = Expect(201)
NO_CONTENT = Expect(204)
BAD = Expect(400)
UNAUTHORISED = Expect(401)
FORBIDDEN = Expect(403)
NOT_FOUND = Expect(404)
NOT_ALLOWED = Expect(405)
GONE = Expect(410)
DESK_LOGIN = Expect(302, "/login/?next=")
PORTAL_SIGN_IN_NEXT = Expect(302, "/portal/sign-in/?next=")
PORTAL_SIGN_IN = Expect(302, "/portal/sign-in/")
ADMIN_LOGIN = Expect(302, "/admin/login/?next=")
TO_DESK = Expect(302, "/")
TO_PORTAL = Expect(302, "/portal/")
REDIRECT = Expect(302)  # where is checked by the page's own tests

# Who asks. "own"/"other" are the two client personas relative to the object's owner.
STAFF_ROLES = ("anon", "agent", "admin")
CLIENTS = {"a": "manager_a", "b": "contact_b"}
# Machines with a token of their own, asked only where a case says what they get.
MACHINES = ("probe",)


@dataclass(frozen=True)
class Case:
    route: str  # the resolver's route, e.g. "tickets/<int:number>/"
    name: str  # namespaced URL name, e.g. "desk:ticket"
    url: Callable[[World, Side], str]
    # role -> outcome; "admin" defaults to "agent", "own"/"other" to "client"
    expect: dict[str, Expect]
    method: str = "get"
    data: Callable[[World, Side], dict] | None = None
    json: bool = False
    headers: Callable[[World, Side], dict] | None = None
    per_client: bool = False  # about one client's object: asked with A's and with B's
    writes: frozenset[str] = frozenset()  # roles whose request may change the database
    shows: Callable[[World, Side], str] | None = None  # a 200 page must contain it
    api: bool = False  # signed in by API token, not session
    label: str = ""
    xfail: dict[str, str] = field(default_factory=dict)  # role -> bug description
    # Markers a public page shows on purpose (a client's own status page shows its name
    # and sites to everyone); every other marker stays forbidden.
    publishes: Callable[[World], list[str]] | None = None

    def outcome(self, role: str) -> Expect | None:
        if role in self.expect:
            return self.expect[role]
        if role == "admin":
            return self.expect.get("agent")
        if role in ("own", "other"):
            return self.expect.get("client")
        return None


def ticket_n(w, s):
    return s.ticket.number


DESK_PAGE = {"anon": DESK_LOGIN, "agent": OK, "client": NOT_FOUND}
DESK_POST = {"anon": DESK_LOGIN, "agent": REDIRECT, "client": NOT_FOUND}
PORTAL_PAGE = {"anon": PORTAL_SIGN_IN_NEXT, "agent": TO_DESK, "client": OK}
PORTAL_OBJECT = {"anon": PORTAL_SIGN_IN_NEXT, "agent": TO_DESK, "own": OK, "other": NOT_FOUND}
PORTAL_POST = {"anon": PORTAL_SIGN_IN, "agent": TO_DESK, "own": REDIRECT, "other": NOT_FOUND}
EVERYONE = {"anon": OK, "agent": OK, "client": OK}
NOBODY_GETS = {"anon": NOT_ALLOWED, "agent": NOT_ALLOWED, "client": NOT_ALLOWED}
API_OBJECT = {"anon": UNAUTHORISED, "agent": OK, "own": OK, "other": NOT_FOUND}
# Clients may read their own record but not change it; another client's stays unfound.
API_PATCH = {"anon": UNAUTHORISED, "agent": OK, "own": FORBIDDEN, "other": NOT_FOUND}
API_CREATE = {"anon": UNAUTHORISED, "agent": CREATED, "client": FORBIDDEN}
# Staff-only as a whole: every client is refused alike before any ticket is looked up,
# so the answer says nothing of whether the number exists or whose it is.
API_STAFF_ONLY = {"anon": UNAUTHORISED, "agent": OK, "client": FORBIDDEN}
STAFF = frozenset({"agent", "admin"})


def desk_ticket_post(route, name, suffix, data, **kw):
    return Case(
        route,
        name,
        lambda w, s: f"/tickets/{s.ticket.number}/{suffix}",
        DESK_POST,
        method="post",
        data=data,
        per_client=True,
        writes=STAFF,
        **kw,
    )


def nobody_gets(route, name, url, per_client=False):
    """A POST-only endpoint: a GET is refused before anyone is asked who they are."""
    return Case(route, name, url, NOBODY_GETS, per_client=per_client, label="GET")


def _properties(w, s):
    return {"status": "pending", "priority": "", "assignee": "", "category": ""}


DESK = [
    # Staff get the dashboard; a client contact signed in here sees its own organisation.
    Case("", "desk:home", lambda w, s: "/", {**DESK_PAGE, "client": OK}),
    Case(
        "clients/",
        "desk:clients",
        lambda w, s: "/clients/",
        {**DESK_PAGE, "client": OK},
        shows=lambda w, s: s.organisation.name,
    ),
    Case(
        "clients/<int:pk>/",
        "desk:client",
        lambda w, s: f"/clients/{s.organisation.pk}/",
        DESK_PAGE,
        per_client=True,
        shows=lambda w, s: s.organisation.name,
    ),
    Case(
        "sites/<int:pk>/",
        "desk:site",
        lambda w, s: f"/sites/{s.site.pk}/",
        DESK_PAGE,
        per_client=True,
        shows=lambda w, s: s.site.name,
    ),
    Case(
        "monitors/",
        "desk:monitors",
        lambda w, s: "/monitors/",
        DESK_PAGE,
        shows=lambda w, s: s.site.name,
    ),
    Case("canned/", "desk:canned", lambda w, s: "/canned/", DESK_PAGE),
    Case("canned/new", "desk:canned_new", lambda w, s: "/canned/new", DESK_PAGE),
    Case(
        "canned/new",
        "desk:canned_new",
        lambda w, s: "/canned/new",
        DESK_POST,
        method="post",
        data=lambda w, s: {"title": "Hello", "body": "Hi", "position": "0"},
        writes=STAFF,
    ),
    Case("canned/<int:pk>/", "desk:canned_edit", lambda w, s: f"/canned/{w.canned.pk}/", DESK_PAGE),
    Case(
        "canned/<int:pk>/",
        "desk:canned_edit",
        lambda w, s: f"/canned/{w.canned.pk}/",
        DESK_POST,
        method="post",
        data=lambda w, s: {"title": "Changed", "body": "Hi", "position": "1"},
        writes=STAFF,
    ),
    Case(
        "login/",
        "desk:login",
        lambda w, s: "/login/",
        {"anon": OK, "agent": TO_DESK, "client": TO_DESK},
    ),
    nobody_gets("logout/", "desk:logout", lambda w, s: "/logout/"),
    Case(
        "attachments/<int:pk>/<str:name>",
        "desk:attachment",
        lambda w, s: f"/attachments/{s.attachment.pk}/{s.attachment.filename}",
        {"anon": DESK_LOGIN, "agent": OK, "own": OK, "other": NOT_FOUND},
        per_client=True,
        label="public file",
    ),
    Case(
        "attachments/<int:pk>/<str:name>",
        "desk:attachment",
        lambda w, s: f"/attachments/{s.note_attachment.pk}/{s.note_attachment.filename}",
        {"anon": DESK_LOGIN, "agent": OK, "own": NOT_FOUND, "other": NOT_FOUND},
        per_client=True,
        label="internal note's file",
    ),
    Case(
        "tickets/",
        "desk:queue",
        lambda w, s: "/tickets/",
        DESK_PAGE,
        shows=lambda w, s: s.ticket.subject,
    ),
    nobody_gets("tickets/bulk", "desk:bulk", lambda w, s: "/tickets/bulk"),
    Case(
        "tickets/bulk",
        "desk:bulk",
        lambda w, s: "/tickets/bulk",
        DESK_POST,
        method="post",
        data=lambda w, s: {"tickets": [s.ticket.pk], "status": "pending", "assignee": ""},
        per_client=True,
        writes=STAFF,
    ),
    Case(
        "tickets/<int:number>/",
        "desk:ticket",
        lambda w, s: f"/tickets/{s.ticket.number}/",
        DESK_PAGE,
        per_client=True,
        shows=lambda w, s: s.note_markers[0],
    ),
    nobody_gets(
        "tickets/<int:number>/reply",
        "desk:reply",
        lambda w, s: f"/tickets/{s.ticket.number}/reply",
        per_client=True,
    ),
    desk_ticket_post(
        "tickets/<int:number>/reply",
        "desk:reply",
        "reply",
        lambda w, s: {"kind": "public_reply", "body": "We are on it"},
    ),
    nobody_gets(
        "tickets/<int:number>/properties",
        "desk:properties",
        lambda w, s: f"/tickets/{s.ticket.number}/properties",
        per_client=True,
    ),
    desk_ticket_post(
        "tickets/<int:number>/properties", "desk:properties", "properties", _properties
    ),
    Case(
        "tickets/<int:number>/canned",
        "desk:insert_canned",
        lambda w, s: f"/tickets/{s.ticket.number}/canned?canned={w.canned.pk}",
        DESK_PAGE,
        per_client=True,
    ),
    nobody_gets(
        "tickets/<int:number>/presence",
        "desk:heartbeat",
        lambda w, s: f"/tickets/{s.ticket.number}/presence",
        per_client=True,
    ),
    # The heartbeat answers the presence fragment itself (htmx), not a redirect.
    Case(
        "tickets/<int:number>/presence",
        "desk:heartbeat",
        lambda w, s: f"/tickets/{s.ticket.number}/presence",
        {**DESK_POST, "agent": OK},
        method="post",
        data=lambda w, s: {"body": "typing"},
        per_client=True,
        writes=STAFF,
    ),
    nobody_gets(
        "tickets/<int:number>/time",
        "desk:log_time",
        lambda w, s: f"/tickets/{s.ticket.number}/time",
        per_client=True,
    ),
    desk_ticket_post(
        "tickets/<int:number>/time",
        "desk:log_time",
        "time",
        lambda w, s: {"minutes": "15", "note": "checked"},
    ),
    nobody_gets(
        "tickets/<int:number>/timer",
        "desk:timer",
        lambda w, s: f"/tickets/{s.ticket.number}/timer",
        per_client=True,
    ),
    desk_ticket_post("tickets/<int:number>/timer", "desk:timer", "timer", lambda w, s: {}),
    nobody_gets(
        "tickets/<int:number>/restore",
        "desk:restore_backup",
        lambda w, s: f"/tickets/{s.ticket.number}/restore",
        per_client=True,
    ),
    desk_ticket_post(
        "tickets/<int:number>/restore",
        "desk:restore_backup",
        "restore",
        lambda w, s: {"restore-confirm": "on"},
    ),
]


def _new_ticket(w, s):
    return {"subject": "Please help", "description": "It broke", "site": s.site.pk}


PORTAL = [
    Case(
        "portal/",
        "portal:home",
        lambda w, s: "/portal/",
        PORTAL_PAGE,
        shows=lambda w, s: s.ticket.subject,
    ),
    Case(
        "portal/sign-in/",
        "portal:sign_in",
        lambda w, s: "/portal/sign-in/",
        {"anon": OK, "agent": TO_DESK, "client": TO_PORTAL},
    ),
    Case(
        "portal/sign-in/sent/",
        "portal:link_sent",
        lambda w, s: "/portal/sign-in/sent/",
        {"anon": PORTAL_SIGN_IN, "agent": PORTAL_SIGN_IN, "client": PORTAL_SIGN_IN},
    ),
    nobody_gets(
        "portal/sign-in/password/",
        "portal:password_sign_in",
        lambda w, s: "/portal/sign-in/password/",
    ),
    Case(
        "portal/link/<str:secret>/",
        "portal:link",
        lambda w, s: "/portal/link/not-a-real-link-secret/",
        {"anon": GONE, "agent": GONE, "client": GONE},
    ),
    nobody_gets("portal/sign-out/", "portal:sign_out", lambda w, s: "/portal/sign-out/"),
    Case("portal/account/", "portal:account", lambda w, s: "/portal/account/", PORTAL_PAGE),
    Case(
        "portal/tickets/new/",
        "portal:new_ticket",
        lambda w, s: "/portal/tickets/new/",
        PORTAL_PAGE,
        shows=lambda w, s: s.site.name,
    ),
    # Naming a site: the client's own is taken, another client's is an invalid choice.
    Case(
        "portal/tickets/new/",
        "portal:new_ticket",
        lambda w, s: "/portal/tickets/new/",
        {**PORTAL_POST, "other": BAD},
        method="post",
        data=_new_ticket,
        per_client=True,
        writes=frozenset({"own"}),
        label="with a site",
    ),
    Case(
        "portal/tickets/new/scope/",
        "portal:scope",
        lambda w, s: "/portal/tickets/new/scope/?category=1",
        PORTAL_PAGE,
    ),
    Case(
        "portal/tickets/<int:number>/",
        "portal:ticket",
        lambda w, s: f"/portal/tickets/{s.ticket.number}/",
        PORTAL_OBJECT,
        per_client=True,
        shows=lambda w, s: s.attachment.filename,
    ),
    nobody_gets(
        "portal/tickets/<int:number>/reply/",
        "portal:reply",
        lambda w, s: f"/portal/tickets/{s.ticket.number}/reply/",
        per_client=True,
    ),
    Case(
        "portal/tickets/<int:number>/reply/",
        "portal:reply",
        lambda w, s: f"/portal/tickets/{s.ticket.number}/reply/",
        PORTAL_POST,
        method="post",
        data=lambda w, s: {"body": "Any news?"},
        per_client=True,
        writes=frozenset({"own"}),
    ),
    nobody_gets(
        "portal/tickets/<int:number>/close/",
        "portal:close",
        lambda w, s: f"/portal/tickets/{s.ticket.number}/close/",
        per_client=True,
    ),
    Case(
        "portal/tickets/<int:number>/close/",
        "portal:close",
        lambda w, s: f"/portal/tickets/{s.ticket.number}/close/",
        PORTAL_POST,
        method="post",
        data=lambda w, s: {},
        per_client=True,
        writes=frozenset({"own"}),
    ),
    nobody_gets(
        "portal/tickets/<int:number>/approve/",
        "portal:approve",
        lambda w, s: f"/portal/tickets/{s.ticket.number}/approve/",
        per_client=True,
    ),
    Case(
        "portal/tickets/<int:number>/approve/",
        "portal:approve",
        lambda w, s: f"/portal/tickets/{s.ticket.number}/approve/",
        PORTAL_POST,
        method="post",
        data=lambda w, s: {},
        per_client=True,
        writes=frozenset({"own"}),
    ),
    Case(
        "portal/statements/",
        "portal:statements",
        lambda w, s: "/portal/statements/",
        PORTAL_PAGE,
        shows=lambda w, s: s.statement.reference,
    ),
    Case(
        "portal/statements/<int:pk>/<str:kind>/",
        "portal:statement_file",
        lambda w, s: f"/portal/statements/{s.statement.pk}/csv/",
        PORTAL_OBJECT,
        per_client=True,
        label="csv",
    ),
    Case(
        "portal/statements/<int:pk>/<str:kind>/",
        "portal:statement_file",
        lambda w, s: f"/portal/statements/{s.statement.pk}/pdf/",
        PORTAL_OBJECT,
        per_client=True,
        label="pdf",
    ),
]

KB_OBJECT = {"anon": NOT_FOUND, "agent": OK, "own": OK, "other": NOT_FOUND}
KB = [
    Case(
        "kb/", "kb:index", lambda w, s: "/kb/", EVERYONE, shows=lambda w, s: w.public_article.title
    ),
    Case(
        "kb/search",
        "kb:search",
        lambda w, s: f"/kb/search?q={SHARED_WORD}",
        EVERYONE,
        shows=lambda w, s: w.public_article.title,
    ),
    Case(
        "kb/suggest",
        "kb:suggest",
        lambda w, s: f"/kb/suggest?q={SHARED_WORD}",
        EVERYONE,
        shows=lambda w, s: w.public_article.title,
    ),
    Case(
        "kb/category/<slug:slug>/",
        "kb:category",
        lambda w, s: f"/kb/category/{s.category.slug}/",
        KB_OBJECT,
        per_client=True,
        shows=lambda w, s: s.article.title,
    ),
    Case(
        "kb/articles/<slug:slug>/",
        "kb:article",
        lambda w, s: f"/kb/articles/{s.article.slug}/",
        KB_OBJECT,
        per_client=True,
        shows=lambda w, s: s.article.title,
    ),
    nobody_gets(
        "kb/articles/<slug:slug>/feedback",
        "kb:feedback",
        lambda w, s: f"/kb/articles/{s.article.slug}/feedback",
        per_client=True,
    ),
    Case(
        "kb/articles/<slug:slug>/feedback",
        "kb:feedback",
        lambda w, s: f"/kb/articles/{s.article.slug}/feedback",
        {"anon": NOT_FOUND, "agent": REDIRECT, "own": REDIRECT, "other": NOT_FOUND},
        method="post",
        data=lambda w, s: {"helpful": "no"},
        per_client=True,
        writes=frozenset({"agent", "admin", "own"}),
    ),
    Case(
        "kb/staff/lookup",
        "kb:staff_lookup",
        lambda w, s: f"/kb/staff/lookup?q={SHARED_WORD}",
        {"anon": NOT_FOUND, "agent": OK, "client": NOT_FOUND},
    ),
    Case("kb/staff/stats", "kb:staff_stats", lambda w, s: "/kb/staff/stats", DESK_PAGE),
]

# A's status page is public (its name and sites, for anyone); B's is switched off.
NOBODY = {"anon": NOT_FOUND, "agent": NOT_FOUND, "client": NOT_FOUND}
STATUS = [
    Case(
        "status/<slug:key>/",
        "status:page",
        lambda w, s: f"/status/{w.a.status_page.key}/",
        EVERYONE,
        shows=lambda w, s: w.a.site.name,
        publishes=lambda w: [w.a.organisation.name, w.a.site.name],
        label="public",
    ),
    Case(
        "status/<slug:key>/",
        "status:page",
        lambda w, s: f"/status/{w.b.status_page.key}/",
        NOBODY,
        label="switched off",
    ),
    Case("status/<slug:key>/", "status:page", lambda w, s: "/status/no-such-page/", NOBODY),
]


def _origin(s: Side) -> str:
    return s.site.url.rstrip("/")


def _widget(route, name, suffix, method, expect, writes=frozenset(), *, origin):
    """The widget API is public and keyed by a site: who asks does not matter, where from does."""
    return Case(
        route,
        name,
        lambda w, s: f"/api/v1/widget/{w.a.site.widget_key}/{suffix}",
        expect,
        method=method,
        headers=lambda w, s: {"Origin": _origin(w.a if origin == "a" else w.b)},
        api=True,
        label=f"from {origin.upper()}'s origin",
        writes=writes,
    )


def _everyone(outcome: Expect) -> dict[str, Expect]:
    return {"anon": outcome, "agent": outcome, "client": outcome}


def _org(w, s):
    return {"name": f"New client {s.key}", "email_domains": []}


def _contact(w, s):
    return {"organisation_id": s.organisation.pk, "name": "New Person", "email": "np@new.example"}


def _site(w, s):
    return {"organisation_id": s.organisation.pk, "name": "New site", "url": "https://new.example/"}


# The remote probes' endpoints take a probe token only: a person's token is no probe's.
PROBE_ONLY = {"anon": UNAUTHORISED, "agent": UNAUTHORISED, "client": UNAUTHORISED, "probe": OK}


def _probe_results(w, s):
    checked = clock.now().isoformat()
    results = [{"monitor_id": w.a.monitor.pk, "checked_at": checked, "ok": True}]
    return {"region": "matrix", "results": results}


def _probe_heartbeat(w, s):
    now = clock.now().isoformat()
    figures = ("monitors", "checks", "failures", "missed", "lag_p50_ms", "lag_p99_ms")
    return {
        "name": "matrix@probe",
        "region": "matrix",
        "started_at": now,
        "at": now,
        "in_flight": 0,
        "waiting_results": 0,
        **dict.fromkeys(figures, 0),
    }


API = [
    Case(
        "api/v1/openapi.json",
        "api:openapi-json",
        lambda w, s: "/api/v1/openapi.json",
        EVERYONE,
        api=True,
    ),
    Case("api/v1/docs", "api:openapi-view", lambda w, s: "/api/v1/docs", EVERYONE, api=True),
    Case("api/v1/", "api:api-root", lambda w, s: "/api/v1/", _everyone(NOT_FOUND), api=True),
    Case(
        "api/v1/organisations",
        "api:list_organisations",
        lambda w, s: "/api/v1/organisations",
        {**API_STAFF_ONLY, "client": OK},
        api=True,
        shows=lambda w, s: s.organisation.name,
    ),
    Case(
        "api/v1/organisations",
        "api:create_organisation",
        lambda w, s: "/api/v1/organisations",
        API_CREATE,
        method="post",
        data=_org,
        json=True,
        api=True,
        writes=STAFF,
    ),
    Case(
        "api/v1/organisations/<int:organisation_id>",
        "api:get_organisation",
        lambda w, s: f"/api/v1/organisations/{s.organisation.pk}",
        API_OBJECT,
        api=True,
        per_client=True,
        shows=lambda w, s: s.organisation.name,
    ),
    Case(
        "api/v1/organisations/<int:organisation_id>",
        "api:update_organisation",
        lambda w, s: f"/api/v1/organisations/{s.organisation.pk}",
        API_PATCH,
        method="patch",
        data=lambda w, s: {"phone": "+44 1 2345"},
        json=True,
        api=True,
        per_client=True,
        writes=STAFF,
    ),
    Case(
        "api/v1/contacts",
        "api:list_contacts",
        lambda w, s: f"/api/v1/contacts?organisation_id={s.organisation.pk}",
        {"anon": UNAUTHORISED, "agent": OK, "own": OK, "other": OK},
        api=True,
        per_client=True,
        label="filtered by organisation",
    ),
    Case(
        "api/v1/contacts",
        "api:create_contact",
        lambda w, s: "/api/v1/contacts",
        API_CREATE,
        method="post",
        data=_contact,
        json=True,
        api=True,
        per_client=True,
        writes=STAFF,
    ),
    Case(
        "api/v1/contacts/<int:contact_id>",
        "api:get_contact",
        lambda w, s: f"/api/v1/contacts/{s.contact.pk}",
        API_OBJECT,
        api=True,
        per_client=True,
        shows=lambda w, s: s.contact.email,
    ),
    Case(
        "api/v1/contacts/<int:contact_id>",
        "api:update_contact",
        lambda w, s: f"/api/v1/contacts/{s.contact.pk}",
        API_PATCH,
        method="patch",
        data=lambda w, s: {"phone": "+44 1 2345"},
        json=True,
        api=True,
        per_client=True,
        writes=STAFF,
    ),
    Case(
        "api/v1/sites",
        "api:list_sites",
        lambda w, s: f"/api/v1/sites?organisation_id={s.organisation.pk}",
        {"anon": UNAUTHORISED, "agent": OK, "own": OK, "other": OK},
        api=True,
        per_client=True,
        label="filtered by organisation",
    ),
    Case(
        "api/v1/sites",
        "api:create_site",
        lambda w, s: "/api/v1/sites",
        API_CREATE,
        method="post",
        data=_site,
        json=True,
        api=True,
        per_client=True,
        writes=STAFF,
    ),
    Case(
        "api/v1/sites/<int:site_id>",
        "api:get_site",
        lambda w, s: f"/api/v1/sites/{s.site.pk}",
        API_OBJECT,
        api=True,
        per_client=True,
        shows=lambda w, s: s.site.name,
    ),
    Case(
        "api/v1/sites/<int:site_id>",
        "api:update_site",
        lambda w, s: f"/api/v1/sites/{s.site.pk}",
        API_PATCH,
        method="patch",
        data=lambda w, s: {"name": "Renamed"},
        json=True,
        api=True,
        per_client=True,
        writes=STAFF,
    ),
    Case(
        "api/v1/tickets/<int:number>/time",
        "api:list_time",
        lambda w, s: f"/api/v1/tickets/{s.ticket.number}/time",
        API_STAFF_ONLY,
        api=True,
        per_client=True,
    ),
    Case(
        "api/v1/tickets/<int:number>/time",
        "api:log_time",
        lambda w, s: f"/api/v1/tickets/{s.ticket.number}/time",
        {**API_STAFF_ONLY, "agent": CREATED},
        method="post",
        data=lambda w, s: {"minutes": 15},
        json=True,
        api=True,
        per_client=True,
        writes=STAFF,
    ),
    _widget(
        "api/v1/widget/<key>/form",
        "api:form_preflight",
        "form",
        "options",
        _everyone(NO_CONTENT),
        origin="a",
    ),
    _widget(
        "api/v1/widget/<key>/form",
        "api:form_preflight",
        "form",
        "options",
        _everyone(FORBIDDEN),
        origin="b",
    ),
    _widget(
        "api/v1/widget/<key>/form", "api:widget_form", "form", "get", _everyone(OK), origin="a"
    ),
    _widget(
        "api/v1/widget/<key>/form",
        "api:widget_form",
        "form",
        "get",
        _everyone(FORBIDDEN),
        origin="b",
    ),
    _widget(
        "api/v1/widget/<key>/tickets",
        "api:tickets_preflight",
        "tickets",
        "options",
        _everyone(FORBIDDEN),
        origin="b",
    ),
    _widget(
        "api/v1/widget/<key>/tickets",
        "api:widget_ticket",
        "tickets",
        "post",
        _everyone(FORBIDDEN),
        origin="b",
    ),
    Case("widget.js", "widget:script", lambda w, s: "/widget.js", EVERYONE),
    # A heartbeat's address is public by design (the token is the secret): whoever calls
    # it pings it, and learns nothing but "OK"; an unknown token is 404 and writes nothing
    # but the per-address count of misses (rate limiting).
    Case(
        "heartbeat/<str:token>/",
        "heartbeat",
        lambda w, s: s.heartbeat.ping_path,
        EVERYONE,
        per_client=True,
        writes=frozenset({"anon", "agent", "admin", "own", "other"}),
        label="its own token",
    ),
    Case(
        "heartbeat/<str:token>/",
        "heartbeat",
        lambda w, s: "/heartbeat/" + "n" * 32 + "/",
        _everyone(NOT_FOUND),
        label="an unknown token",
        writes=frozenset({"anon", "agent", "admin", "client"}),
    ),
    Case(
        "api/v1/monitors",
        "api:list_monitors",
        lambda w, s: "/api/v1/monitors",
        API_STAFF_ONLY,
        api=True,
        shows=lambda w, s: s.monitor.name,
    ),
    Case(
        "api/v1/monitors/<int:monitor_id>",
        "api:get_monitor",
        lambda w, s: f"/api/v1/monitors/{s.monitor.pk}",
        API_STAFF_ONLY,
        per_client=True,
        api=True,
        shows=lambda w, s: s.monitor.name,
    ),
    Case(
        "api/v1/monitors/import",
        "api:import_monitors_api",
        lambda w, s: "/api/v1/monitors/import",
        API_STAFF_ONLY,
        method="post",
        data=lambda w, s: [{"url": f"{s.site.url}matrix", "site": s.site.pk}],
        json=True,
        api=True,
        writes=STAFF,
    ),
    Case(
        "api/v1/probe/monitors",
        "api:probe_monitors",
        lambda w, s: "/api/v1/probe/monitors",
        PROBE_ONLY,
        api=True,
    ),
    Case(
        "api/v1/probe/results",
        "api:probe_results",
        lambda w, s: "/api/v1/probe/results",
        PROBE_ONLY,
        method="post",
        data=_probe_results,
        json=True,
        api=True,
        writes=frozenset({"probe"}),
    ),
    Case(
        "api/v1/probe/heartbeat",
        "api:probe_heartbeat",
        lambda w, s: "/api/v1/probe/heartbeat",
        PROBE_ONLY,
        method="post",
        data=_probe_heartbeat,
        json=True,
        api=True,
        writes=frozenset({"probe"}),
    ),
]

# Inbound mail webhooks answer only a provider holding the shared secret; nobody here has it,
# and who is signed in does not matter (they are CSRF-exempt and read no session), so the
# stranger asks: a GET is 405, an unsigned POST 400, and nothing is stored. A provider that
# needs settings caredesk was not given answers 404 (never a 500).
UNCONFIGURED = {
    "anymail:amazon_ses_inbound_webhook",  # boto3 is not installed
    "anymail:amazon_ses_tracking_webhook",
    "anymail:brevo_inbound_webhook",  # BREVO_API_KEY
    "anymail:sendinblue_inbound_webhook",  # SENDINBLUE_API_KEY
    "anymail:mailersend_inbound_webhook",  # MAILERSEND_INBOUND_SECRET
    "anymail:mailersend_tracking_webhook",  # MAILERSEND_SIGNING_SECRET
    "anymail:mailtrap_inbound_webhook",
    "anymail:postal_inbound_webhook",  # POSTAL_WEBHOOK_KEY
    "anymail:postal_tracking_webhook",
    "anymail:resend_inbound_webhook",
    "anymail:unisender_go_tracking_webhook",  # UNISENDER_GO_API_KEY
    "anymail:mandrill_webhook",  # MANDRILL_WEBHOOK_KEY
    "anymail:mandrill_tracking_webhook",
}
# These check their key only when a POST arrives; their GET is a plain 405.
POST_ONLY_CHECK = {"anymail:mandrill_webhook", "anymail:mandrill_tracking_webhook"}


def _webhook_cases() -> list[Case]:
    cases = []
    for route, name in _routes():
        if not name.startswith("anymail:"):
            continue
        url = "/" + route.replace("^", "").replace("(_mime)?/$", "/")
        unset = name in UNCONFIGURED
        get = NOT_FOUND if unset and name not in POST_ONLY_CHECK else NOT_ALLOWED
        cases.append(Case(route, name, lambda w, s, url=url: url, {"anon": get}, label="GET"))
        cases.append(
            Case(
                route,
                name,
                lambda w, s, url=url: url,
                {"anon": NOT_FOUND if unset else BAD},
                method="post",
                data=lambda w, s: {"subject": w.b.ticket.subject},
                label="unsigned",
            )
        )
    return cases


def _admin_change(model: str, attr: str):
    return lambda w, s: f"/admin/{model}/{getattr(s, attr).pk}/change/"


STAFF_ADMIN = {"anon": ADMIN_LOGIN, "agent": OK, "client": ADMIN_LOGIN}
ADMIN = [
    Case("admin/", "admin:index", lambda w, s: "/admin/", STAFF_ADMIN),
    Case(
        "admin/login/",
        "admin:login",
        lambda w, s: "/admin/login/",
        {"anon": OK, "agent": Expect(302, "/admin/"), "client": OK},
    ),
    # Signing out takes a POST (staff get 405 for a GET); others are sent to the front page.
    Case(
        "admin/logout/",
        "admin:logout",
        lambda w, s: "/admin/logout/",
        {**_everyone(Expect(302, "/admin/")), "agent": NOT_ALLOWED},
    ),
    Case(
        "admin/password_change/",
        "admin:password_change",
        lambda w, s: "/admin/password_change/",
        STAFF_ADMIN,
    ),
    Case(
        "admin/password_change/done/",
        "admin:password_change_done",
        lambda w, s: "/admin/password_change/done/",
        STAFF_ADMIN,
    ),
    Case(
        "admin/autocomplete/",
        "admin:autocomplete",
        lambda w, s: "/admin/autocomplete/",
        {**STAFF_ADMIN, "agent": FORBIDDEN},
        label="without a field",
    ),
    Case("admin/jsi18n/", "admin:jsi18n", lambda w, s: "/admin/jsi18n/", STAFF_ADMIN),
    Case(
        "admin/r/<path:content_type_id>/<path:object_id>/",
        "admin:view_on_site",
        lambda w, s: f"/admin/r/1/{s.ticket.pk}/",
        {**STAFF_ADMIN, "agent": NOT_FOUND},
        per_client=True,
    ),
    Case(
        "admin/^(?P<app_label>[generated])/$",
        "admin:app_list",
        lambda w, s: "/admin/tickets/",
        STAFF_ADMIN,
    ),
    Case(
        "admin/(?P<url>.*)$",
        "admin:catch_all",
        lambda w, s: "/admin/no-such-page/",
        {**STAFF_ADMIN, "agent": NOT_FOUND},
    ),
    Case(
        "admin/import/<str:kind>/",
        "import_csv",
        lambda w, s: "/admin/import/organisations/",
        STAFF_ADMIN,
    ),
    Case(
        "admin/import/<str:kind>/",
        "import_csv",
        lambda w, s: "/admin/import/organisations/",
        {"anon": ADMIN_LOGIN, "agent": OK, "client": ADMIN_LOGIN},
        method="post",
        data=lambda w, s: {"dry_run": ""},
        label="without a file",
    ),
    Case(
        "admin/accounts/user/<id>/password/",
        "admin:auth_user_password_change",
        lambda w, s: f"/admin/accounts/user/{s.user.pk}/password/",
        {**STAFF_ADMIN, "agent": FORBIDDEN, "admin": OK},
        per_client=True,
    ),
    *[
        Case(
            f"admin/billing/statement/<int:pk>/{kind}/",
            f"admin:billing_statement_{kind}",
            lambda w, s, kind=kind: f"/admin/billing/statement/{s.statement.pk}/{kind}/",
            STAFF_ADMIN,
            per_client=True,
        )
        for kind in ("pdf", "csv", "html")
    ],
    Case(
        "reports/<int:pk>/",
        "reports:preview",
        lambda w, s: f"/reports/{s.report.pk}/",
        {"anon": PORTAL_SIGN_IN_NEXT, "agent": OK, "client": NOT_FOUND},
        per_client=True,
        shows=lambda w, s: s.organisation.name,
    ),
    Case(
        "reports/<int:pk>/pdf/",
        "reports:download",
        lambda w, s: f"/reports/{s.report.pk}/pdf/",
        {"anon": PORTAL_SIGN_IN_NEXT, "agent": OK, "own": OK, "other": NOT_FOUND},
        per_client=True,
    ),
    Case(
        "portal/reports/",
        "portal:reports",
        lambda w, s: "/portal/reports/",
        PORTAL_PAGE,
        shows=lambda w, s: s.report.month_label,
    ),
    Case(
        "portal/reports/<int:pk>/",
        "portal:report",
        lambda w, s: f"/portal/reports/{s.report.pk}/",
        PORTAL_OBJECT,
        per_client=True,
        shows=lambda w, s: s.organisation.name,
    ),
    Case(
        "admin/reports/report/<int:pk>/pdf/",
        "admin:reports_report_pdf",
        lambda w, s: f"/admin/reports/report/{s.report.pk}/pdf/",
        STAFF_ADMIN,
        per_client=True,
    ),
    # Representatives of the generated model pages, with a client's own object.
    Case(
        "admin:model",
        "admin:tickets_ticket_change",
        _admin_change("tickets/ticket", "ticket"),
        STAFF_ADMIN,
        per_client=True,
        shows=lambda w, s: s.ticket.subject,
    ),
    Case(
        "admin:model",
        "admin:clients_organisation_change",
        _admin_change("clients/organisation", "organisation"),
        STAFF_ADMIN,
        per_client=True,
    ),
    Case(
        "admin:model",
        "admin:clients_site_history",
        lambda w, s: f"/admin/clients/site/{s.site.pk}/history/",
        STAFF_ADMIN,
        per_client=True,
    ),
    Case(
        "admin:model",
        "admin:clients_contact_delete",
        lambda w, s: f"/admin/clients/contact/{s.contact.pk}/delete/",
        STAFF_ADMIN,
        per_client=True,
    ),
    Case(
        "admin:model",
        "admin:tickets_ticket_redirect",
        lambda w, s: f"/admin/tickets/ticket/{s.ticket.pk}/",
        {**STAFF_ADMIN, "agent": REDIRECT},
        per_client=True,
    ),
    Case("admin:model", "admin:kb_article_add", lambda w, s: "/admin/kb/article/add/", STAFF_ADMIN),
    Case(
        "admin:model",
        "admin:tickets_ticket_delete",
        lambda w, s: f"/admin/tickets/ticket/{s.ticket.pk}/delete/",
        {**STAFF_ADMIN, "agent": REDIRECT},
        method="post",
        data=lambda w, s: {"post": "yes"},
        per_client=True,
        writes=STAFF,
    ),
    Case(
        "admin:model",
        "admin:clients_site_change",
        _admin_change("clients/site", "site"),
        {**STAFF_ADMIN, "agent": OK},
        method="post",
        data=lambda w, s: {"name": "Taken over"},
        per_client=True,
        writes=STAFF,
        label="incomplete form",
    ),
]

CASES: list[Case] = [*DESK, *PORTAL, *KB, *STATUS, *API, *ADMIN]


# --- the URL resolver, walked --------------------------------------------------------------

ADMIN_SITE_NAMES = {
    "index", "login", "logout", "password_change", "password_change_done", "autocomplete",
    "jsi18n", "view_on_site", "app_list",
}  # fmt: skip
ADMIN_MODEL_PAGE = re.compile(r"^admin:\w+_(changelist|add|history|delete|change)$")


def _routes() -> list[tuple[str, str]]:
    """(route, namespaced name) of every URL pattern, recursively."""
    found = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(n for n in (namespace, pattern.namespace) if n)
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                name = pattern.name or ""
                full = f"{namespace}:{name}" if namespace and name else name or namespace
                found.append((prefix + str(pattern.pattern), full))

    walk(get_resolver().url_patterns, "", "")
    return found


def _admin_rule(route: str, name: str) -> str | None:
    """How the admin rule classifies a generated admin page, or None when it does not."""
    if not route.startswith("admin/"):
        return None
    if ADMIN_MODEL_PAGE.match(name):
        return "model page"
    if name == "admin" and route.endswith("<path:object_id>/"):
        return "model page"  # the redirect from an object's bare address to its change page
    if name == "admin" and route == "admin/(?P<url>.*)$":
        return "admin:catch_all"
    if name.startswith("admin:") and name.removeprefix("admin:") in ADMIN_SITE_NAMES:
        return name
    return None


def _classified() -> set[tuple[str, str]]:
    return {(c.route, c.name) for c in CASES}


def test_every_url_pattern_is_classified():
    unclassified = []
    for route, name in _routes():
        if name.startswith("anymail:"):
            continue  # the webhook rule: every one of them is asked (see _webhook_cases)
        rule = _admin_rule(route, name)
        if rule == "model page":
            continue
        if rule is not None:
            name = rule
            if name == "admin:app_list":
                route = "admin/^(?P<app_label>[generated])/$"
            if name == "admin:catch_all":
                route = "admin/(?P<url>.*)$"
        if (route, name) not in _classified():
            unclassified.append(f"{route}  ({name or 'no name'})")
    assert not unclassified, "URLs the access matrix does not classify:\n" + "\n".join(unclassified)


def test_the_matrix_names_no_url_that_is_gone():
    known = set(_routes())
    stale = [
        c.name for c in CASES if not c.route.startswith("admin") and (c.route, c.name) not in known
    ]
    assert not stale, f"classified but no longer routed: {stale}"


# --- the world, built once per module ---------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One world for the whole module, in a transaction rolled back at the end.

    Each test runs in a savepoint inside it (pytest-django's ``db``), so what
    a test changes is undone before the next, as Django's setUpTestData does.
    """
    media = tmp_path_factory.mktemp("media")
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=media,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            ANYMAIL={"WEBHOOK_SECRET": WEBHOOK_SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": "k" * 32},
        ),
        transaction.atomic(),
    ):
        built = build_world()
        # Every test starts from this state (its own changes are rolled back), so one
        # snapshot taken now is the "before" of every refused write.
        built.baseline = snapshot()
        yield built
        transaction.set_rollback(True)


@pytest.fixture
def ask(world, db, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": WEBHOOK_SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": "k" * 32}

    def make(persona: str, *, api: bool) -> Client:
        if api:
            token = world.tokens.get(persona)
            return _client(headers={"Authorization": f"Bearer {token}"} if token else {})
        client = _client()
        if persona in world.sessions:
            client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona]
        return client

    return make


def _expand(cases: list[Case]):
    """(case, persona, role, owner) for every question the matrix asks, as pytest params."""
    for case in cases:
        rows = []
        if case.per_client:
            rows += [(p, p, "a") for p in STAFF_ROLES]
            for owner in ("a", "b"):
                other = "b" if owner == "a" else "a"
                rows += [(CLIENTS[owner], "own", owner), (CLIENTS[other], "other", owner)]
        else:
            rows += [(p, p, "a") for p in STAFF_ROLES]
            rows += [(persona, "client", key) for key, persona in CLIENTS.items()]
        rows += [(p, p, "a") for p in MACHINES if p in case.expect]
        for persona, role, owner in rows:
            expect = case.outcome(role)
            if expect is None:
                continue
            label = f" {case.label}" if case.label else ""
            ident = f"{case.method.upper()} {case.name}{label} as {persona}" + (
                f" on {owner.upper()}'s" if case.per_client else ""
            )
            marks = []
            if role in case.xfail:
                marks.append(pytest.mark.xfail(strict=True, reason=case.xfail[role]))
            yield pytest.param(case, persona, role, owner, id=ident, marks=marks)


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _forbidden_markers(world: World, persona: str) -> list[str]:
    """What this persona must never read: others' things, and anyone's internal notes."""
    notes = world.a.note_markers + world.b.note_markers
    if persona == "manager_a":
        return world.b.markers + notes
    if persona == "contact_b":
        return world.a.markers + notes
    if persona == "anon":
        return world.a.markers + world.b.markers + notes
    return []


def _request(client: Client, case: Case, url: str, data, headers):
    method = getattr(client, case.method)
    kwargs = {"headers": headers or {}}
    if data is not None:
        if case.json:
            kwargs["content_type"] = "application/json"
        return method(url, data, **kwargs)
    return method(url, **kwargs)


def _client(**kwargs) -> Client:
    # A crash is an answer like any other here: a 500 fails its case with the status.
    return Client(raise_request_exception=False, **kwargs)


def _run(world: World, ask, case: Case, persona: str, role: str, owner: str) -> None:
    side = world.side(owner)
    # The side whose things the persona may see: its own, or A's for staff and strangers.
    seen = world.side("b" if persona == "contact_b" else "a")
    url = case.url(world, side)
    label = f"{case.method.upper()} {url} as {persona}"
    data = case.data(world, side) if case.data else None
    headers = case.headers(world, side) if case.headers else None
    response = _request(ask(persona, api=case.api), case, url, data, headers)
    case.outcome(role).check(response, label)
    body = _body(response)
    if response.status_code < 300:
        published = case.publishes(world) if case.publishes else []
        leaked = [m for m in _forbidden_markers(world, persona) if m in body and m not in published]
        assert not leaked, f"{label} shows what {persona} may not see: {leaked}"
        if case.shows and role != "other":
            assert case.shows(world, seen if role != "own" else side) in body, label
    if case.method != "get" and role not in case.writes:
        changed = changed_tables(world.baseline, snapshot())
        assert not changed, f"{label} was refused yet changed {changed}"


@pytest.mark.parametrize(("case", "persona", "role", "owner"), list(_expand(CASES)))
def test_access(world, ask, case, persona, role, owner):
    _run(world, ask, case, persona, role, owner)


@pytest.mark.parametrize(("case", "persona", "role", "owner"), list(_expand(_webhook_cases())))
def test_mail_webhooks_refuse_everyone_without_the_secret(world, ask, case, persona, role, owner):
    _run(world, ask, case, persona, role, owner)


# --- the admin: one rule, asked of every changelist ------------------------------------------

# Agency staff other than admins may open these apps' admin pages (accounts.models
# _STAFF_EDITABLE_APPS); users, tokens and the rest stay with the agency admin.
AGENT_APPS = {
    "clients",
    "plans",
    "sla",
    "tickets",
    "mail",
    "billing",
    "monitoring",
    "kb",
    "desk",
    "maintenance",
    "reports",
}
ADMIN_ONLY_APPS = {"auth", "accounts", "django_tasks_database", "alerts", "widget"}
# Single models of an admin-only app that every staff member works with.
AGENT_MODELS = {"widget.quarantinedsubmission"}  # spam triage is desk work
# Single models of an agent app that only the agency admin may open.
ADMIN_MODELS = {"monitoring.probetoken"}  # a probe token can report any site down


def _changelists() -> list[tuple[str, str]]:
    return sorted((model._meta.app_label, model._meta.model_name) for model in admin.site._registry)


def test_every_admin_app_is_classified():
    apps = {label for label, _ in _changelists()}
    assert apps <= AGENT_APPS | ADMIN_ONLY_APPS, apps - AGENT_APPS - ADMIN_ONLY_APPS


def _changelist_params():
    for app_label, model in _changelists():
        label = f"{app_label}.{model}"
        agent = OK if app_label in AGENT_APPS or label in AGENT_MODELS else FORBIDDEN
        if label in ADMIN_MODELS:
            agent = FORBIDDEN
        expect = {"anon": ADMIN_LOGIN, "agent": agent, "admin": OK, "client": ADMIN_LOGIN}
        case = Case(
            "admin:model",
            f"admin:{app_label}_{model}_changelist",
            lambda w, s, url=f"/admin/{app_label}/{model}/": url,
            expect,
        )
        yield from _expand([case])


@pytest.mark.parametrize(("case", "persona", "role", "owner"), list(_changelist_params()))
def test_admin_changelist(world, ask, case, persona, role, owner):
    _run(world, ask, case, persona, role, owner)


# --- static files and media ---------------------------------------------------------------


@pytest.mark.parametrize("persona", ["anon", "manager_a", "contact_b"])
def test_static_files_are_public(ask, persona):
    response = ask(persona, api=False).get("/static/caredesk/desk.css")
    assert response.status_code == 200


@pytest.mark.parametrize("persona", ["anon", "agent", "manager_a", "contact_b"])
def test_uploaded_files_are_never_served_from_media(world, ask, persona):
    """Attachments leave only through the attachment view, which checks who asks."""
    for side in (world.a, world.b):
        for item in (side.attachment, side.note_attachment):
            for url in (f"/media/{item.file.name}", f"/{item.file.name}"):
                assert ask(persona, api=False).get(url).status_code == 404, url


def test_a_signed_in_browser_is_not_an_api_client(world, ask):
    """The API reads tokens only: a session cookie alone gets 401, whoever it belongs to."""
    for persona in ("agent", "manager_a"):
        client = ask(persona, api=False)
        assert client.get(f"/api/v1/organisations/{world.a.organisation.pk}").status_code == 401


def test_the_world_is_what_the_matrix_assumes(world, db):
    # If a marker occurred in the other side's data, absence checks would prove nothing.
    for mine, theirs in ((world.a, world.b), (world.b, world.a)):
        assert not set(mine.markers) & set(theirs.markers)
