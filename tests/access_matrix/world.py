"""Two clients with one of everything, and the people who ask for it.

Client A (Alpha Bakery) and client B (Beta Dental) each get a ticket with a
public attachment and an internal note with its own attachment, a site with a
monitor and a widget, a portal article on a shelf of its own, a finalised
statement, a sent monthly report and a status page (A's public, B's off).
Every one of B's things carries a marker that no page shown to A's manager
may contain, and the other way round; internal notes carry markers no client
may ever see.

The cast mirrors the root conftest (agent, admin, manager of A, contact of B),
built once per module: the matrix asks hundreds of questions of the same world.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.apps import apps
from django.core.files.base import ContentFile
from django.test import Client

from caredesk.accounts.models import ApiToken, Role, User
from caredesk.billing.models import Statement, StatementStatus
from caredesk.clients.models import Contact, Organisation, Site
from caredesk.desk.models import CannedReply
from caredesk.kb import actions as kb_actions
from caredesk.kb.models import Article, Category, Status, Visibility
from caredesk.lib import clock
from caredesk.monitoring.models import Monitor, ProbeToken, StatusPage
from caredesk.reports import actions as report_actions
from caredesk.reports.models import Report, ReportState
from caredesk.tickets import actions as ticket_actions
from caredesk.tickets.models import Attachment, Message, MessageKind, Ticket

# A word every article's body holds, so a search that leaks would find them all.
SHARED_WORD = "sourdough"


@dataclass
class Side:
    """One client's things, and the strings that betray them."""

    key: str  # "a" or "b"
    organisation: Organisation
    contact: Contact
    user: User
    site: Site
    ticket: Ticket
    attachment: Attachment
    note_attachment: Attachment
    article: Article
    category: Category
    statement: Statement
    monitor: Monitor
    heartbeat: Monitor  # pinged at /heartbeat/<token>/
    report: Report
    status_page: StatusPage
    markers: list[str] = field(default_factory=list)
    note_markers: list[str] = field(default_factory=list)


@dataclass
class World:
    agent: User
    admin: User
    a: Side
    b: Side
    canned: CannedReply
    public_article: Article
    sessions: dict[str, str]  # persona -> session key
    tokens: dict[str, str]  # persona -> API secret (and "probe" -> a probe token)
    baseline: dict = field(default_factory=dict)  # snapshot() of the world as built

    def side(self, key: str) -> Side:
        return self.a if key == "a" else self.b

    def other(self, key: str) -> Side:
        return self.b if key == "a" else self.a

    def user(self, persona: str) -> User | None:
        return {
            "anon": None,
            "agent": self.agent,
            "admin": self.admin,
            "manager_a": self.a.user,
            "contact_b": self.b.user,
        }[persona]


def _attach(message: Message, name: str, data: bytes) -> Attachment:
    item = Attachment(message=message, filename=name, content_type="image/png", size=len(data))
    item.file.save(name, ContentFile(data), save=False)
    item.save()
    return item


def _side(key: str, name: str, domain: str, person: str, agent: User) -> Side:
    tag = f"QX{key.upper()}"  # QXA / QXB: unlikely to occur in any page by chance
    organisation = Organisation.objects.create(name=name, email_domains=domain)
    email = f"{person.split()[0].lower()}.{tag.lower()}@{domain}"
    user = User.objects.create_user(email, None, role=Role.CLIENT, full_name=person)
    contact = Contact.objects.create(
        organisation=organisation, name=person, email=email, user=user, is_manager=True
    )
    site = Site.objects.create(
        organisation=organisation,
        name=f"{tag}-site shop",
        url=f"https://www.{domain}/",
        widget_enabled=True,
        widget_origins=f"https://www.{domain}",
    )
    monitor = Monitor.objects.create(site=site, name=f"{tag}-monitor", url=site.url)
    heartbeat = Monitor.objects.create(site=site, kind="heartbeat", name=f"{tag}-heartbeat")
    # A's status page is public, B's switched off (the default).
    status_page = StatusPage.objects.create(
        organisation=organisation, key=f"{tag.lower()}-status", enabled=key == "a"
    )
    ticket = ticket_actions.do_create_ticket(
        subject=f"{tag}-subject oven timer",
        body=f"{tag}-body the timer is wrong",
        channel="portal",
        requester=contact,
        site=site,
        notify_requester=False,
    )
    attachment = _attach(
        ticket.messages.get(kind=MessageKind.CUSTOMER),
        f"{tag}-screen.png",
        b"\x89PNG " + tag.encode(),
    )
    note = ticket_actions.do_add_note(ticket, f"{tag}-internal-note server logs", acting_user=agent)
    note_attachment = _attach(note, f"{tag}-notefile.png", b"\x89PNG note " + tag.encode())
    category = Category.objects.create(name=f"{tag}-shelf", slug=f"{tag.lower()}-shelf")
    article = kb_actions.do_save_article(
        Article(),
        acting_user=agent,
        title=f"{tag}-article recipes",
        body=f"How {name} bakes {SHARED_WORD}.",
        slug=f"{tag.lower()}-article",
        category=category,
        status=Status.PUBLISHED,
        visibility=Visibility.PORTAL,
        organisation=organisation,
    )
    statement = Statement.objects.create(
        organisation=organisation,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 11, 1),
        window_start=date(2026, 10, 1),
        window_end=date(2026, 11, 1),
        status=StatementStatus.FINAL,
        number=900 if key == "a" else 901,
        currency="GBP",
        total=Decimal("12.00"),
    )
    month = clock.now().date().replace(day=1)
    (report,) = report_actions.do_build_reports(
        month.year, month.month, organisations=[organisation.pk], acting_user=agent
    )
    Report.objects.filter(pk=report.pk).update(state=ReportState.SENT, sent_at=clock.now())
    report.refresh_from_db()
    return Side(
        key=key,
        organisation=organisation,
        contact=contact,
        user=user,
        site=site,
        ticket=ticket,
        attachment=attachment,
        note_attachment=note_attachment,
        article=article,
        category=category,
        statement=statement,
        monitor=monitor,
        heartbeat=heartbeat,
        report=report,
        status_page=status_page,
        markers=[
            name,
            email,
            site.name,
            ticket.subject,
            f"{tag}-body",
            attachment.filename,
            article.title,
            category.name,
            statement.reference,
        ],
        note_markers=[f"{tag}-internal-note", note_attachment.filename],
    )


def build_world() -> World:
    agent = User.objects.create_user(
        "agent@agency.example", None, role=Role.AGENT, full_name="Ada Agent"
    )
    admin = User.objects.create_user(
        "admin@agency.example", None, role=Role.ADMIN, full_name="Alex Admin"
    )
    a = _side("a", "Alpha Bakery", "alpha.example", "Mia Manager", agent)
    b = _side("b", "Beta Dental", "beta.example", "Bea Beta", agent)
    public_article = kb_actions.do_save_article(
        Article(),
        acting_user=agent,
        title="Resetting your password",
        body=f"Everyone can read this, about {SHARED_WORD} too.",
        slug="resetting-your-password",
        status=Status.PUBLISHED,
        visibility=Visibility.PUBLIC,
    )
    canned = CannedReply.objects.create(title="Thanks", body="Thanks {{ requester.first_name }}")
    users = {"agent": agent, "admin": admin, "manager_a": a.user, "contact_b": b.user}
    sessions = {}
    for persona, user in users.items():
        signed_in = Client()
        signed_in.force_login(user)
        sessions[persona] = signed_in.session.session_key
    tokens = {persona: ApiToken.issue(user, "matrix")[1] for persona, user in users.items()}
    tokens["probe"] = ProbeToken.issue("matrix", "matrix")[1]  # a remote probe, no user
    return World(agent, admin, a, b, canned, public_article, sessions, tokens)


# Rows that change by design on every request, whoever asks: the session store
# (a visit may refresh it) and a token's "last used" stamp (the API's own bookkeeping).
_VOLATILE = {
    "sessions.session": None,
    "accounts.apitoken": {"last_used_at"},
    "monitoring.probetoken": {"last_used_at"},
}


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, less the volatile ones: equal snapshots mean nothing changed."""
    state = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if model._meta.proxy or not model._meta.managed:
            continue
        if label in _VOLATILE and _VOLATILE[label] is None:
            continue
        names = [
            f.attname
            for f in model._meta.concrete_fields
            if f.attname not in (_VOLATILE.get(label) or ())
        ]
        state[label] = list(model.objects.order_by("pk").values_list(*names))
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(label for label in before if before[label] != after.get(label))
