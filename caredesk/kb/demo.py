"""Demo help articles for the demo agency's clients, written from the seeds' promises.

Loading is an upsert on slugs, so running it twice leaves the same rows as
once. An article meant for one client is skipped (not made visible to every
client) when that client is not in the database.
"""

from dataclasses import dataclass

from django.db import transaction

from caredesk.clients.models import Organisation
from caredesk.lib import clock

from .models import Article, Category, Status, Visibility

CATEGORIES = [
    # slug, name, description
    ("getting-help", "Getting help", "Raising tickets, response times and emergencies."),
    ("your-website", "Your website", "Everyday WordPress tasks you can do yourself."),
    ("backups-security", "Backups and security", "Backups, restores, updates and scans."),
    ("plans-reports", "Plans, hours and reports", "Support hours, billing and the monthly report."),
]


@dataclass(frozen=True)
class Demo:
    slug: str
    category: str
    title: str
    summary: str
    keywords: str
    body: str
    visibility: str = Visibility.PUBLIC
    status: str = Status.PUBLISHED
    organisation: str | None = None


ARTICLES = [
    Demo(
        "how-response-times-are-counted",
        "getting-help",
        "How our response times are counted",
        "Response times run in business hours on working days; evenings, weekends and "
        "bank holidays do not count, except for emergencies.",
        "sla, business hours, working days, how long, reply time, response time",
        """Every plan promises a first reply within a number of **business hours**. The clock only
runs while we are open, so a ticket sent on Friday at 16:00 with a 4-hour target is due
on Monday at 11:00 (08:00 opening), not on Friday at 20:00.

## Our hours

| Plan | Open | Time zone |
|---|---|---|
| KIJO Care | Monday–Friday 08:00–17:00 | UK time |
| Studio Support | Monday–Friday 09:00–17:00 | UK time |
| Support Packages | Monday–Friday 09:00–18:00 | Kyiv time |

English bank holidays are closed days for the UK plans.

## What we promise

- **KIJO Care**: critical tickets (the site is down, or a contact form does not send)
  within 4 business hours; backup restorations within 1 to 2 business days; everything
  else within 1 business day. Downtime found by our monitoring: within 2 hours of our
  team being alerted.
- **Studio Support**: user support within 3 working days; bug fixes answered within 1
  working day and fixed within the next 1–2; mission-critical problems around the clock.
- **Support Packages**: Level 1 emergencies around the clock; Level 2 within 2 business
  hours; Level 3 within 4; Level 4 within 1 business day.

When you raise a ticket, the confirmation email says when to expect our first reply.

## What pauses the clock

While we are waiting for you (a ticket marked *waiting on you*) or for a third party
such as your host, the resolution clock pauses. The first-response clock never pauses.
""",
    ),
    Demo(
        "emergencies-and-downtime",
        "getting-help",
        "What counts as an emergency, and how to report downtime",
        "If your site is down we usually know first. Here is what counts as an emergency "
        "and the fastest way to reach us.",
        "site down, offline, outage, urgent, critical, emergency, 500 error, cannot access",
        """## We are probably already on it

We check every site we look after every minute. When a check fails from more than one
place, our team is alerted, a critical ticket is opened for you automatically and we
start work. You will get an email from that ticket; reply to it to add anything you know.

## What counts as an emergency

- Your website is down or shows a server error on every page.
- Customers cannot place orders or pay.
- Your contact form does not send (KIJO Care treats this as critical too).
- A security breach: defaced pages, unknown admin users, spam being sent from the site.

A broken layout on one page, a slow page or a typo is not an emergency: raise a normal
ticket and we will handle it within your plan's response time.

## How to report it

1. **Raise a ticket** with "Site down" in the subject and the address you tried.
   Say what you see (a blank page, an error message, a certificate warning) and when it
   started.
2. **Studio Support clients**: for a complete outage also call **01453 884100**. Outside
   office hours leave a message: it is emailed to the on-call team.
3. **Support Package clients**: mark the request as **Level 1**; it is handled around the
   clock.

> Tip: try the site on your phone's mobile data too. If it works there, the problem may
> be your office network rather than the website.
""",
    ),
    Demo(
        "raising-a-ticket",
        "getting-help",
        "How to raise a support ticket (and what to put in it)",
        "Tickets reach the right person fastest. Email, the portal or the help button on "
        "your site all work.",
        "contact support, new ticket, request, help, email support, portal",
        """You can raise a ticket in three ways:

- **Email** our support address. Each email starts a ticket; replies thread back into it.
- **The client portal**: sign in with your email address, choose *New ticket*.
- **The help button** in the bottom-right corner of your website (if we added it).

You receive a confirmation email with the ticket number and when to expect our first
reply. Reply to any of our emails to add to the ticket; there is no need to open a new one.

## A good ticket has

- **What you expected and what happened** instead.
- **Where**: the page address (copy it from the browser's address bar).
- **When** it started, and whether it happens every time.
- **A screenshot** if you can — attach it to the email.

One problem per ticket, please: separate tickets can be worked on in parallel.
""",
    ),
    Demo(
        "reset-wordpress-password",
        "your-website",
        "How to reset your WordPress password",
        "Locked out of the WordPress dashboard? Reset your password from the login page "
        "in two minutes.",
        "login, log in, sign in, locked out, forgot password, wp-admin, lost password",
        """1. Go to your site's login page: your address followed by `/wp-admin`, for example
   `https://www.example.com/wp-admin`.
2. Click **Lost your password?** under the login form.
3. Enter your username or the email address of your WordPress account and click
   **Get New Password**.
4. Open the email from your website (check the spam folder) and follow the link.
5. Choose a new password — WordPress suggests a strong one — and click **Save Password**.

## The email never arrives

- Wait five minutes and check spam or junk.
- Make sure you used the address of your WordPress account, which may differ from your
  everyday one.
- Your site may not be able to send email. Raise a ticket: we can send you a reset link
  ourselves, and fix the site's email while we are at it.

> We will never ask for your password by email or phone.
""",
    ),
    Demo(
        "add-a-wordpress-user",
        "your-website",
        "Adding a colleague to your WordPress site",
        "Give each person their own login with the least access they need.",
        "new user, add user, editor, administrator, account, role, staff member",
        """1. In the WordPress dashboard go to **Users → Add New User**.
2. Enter a username and your colleague's work email address.
3. Choose a **role**:
   - **Editor** — can write and publish pages and posts. Right for most staff.
   - **Author** — can write and publish their own posts only.
   - **Administrator** — can change everything, including plugins. Keep these few.
4. Leave **Send the new user an email about their account** ticked and click
   **Add New User**.

When someone leaves, delete their user and give their content to a colleague when
WordPress asks. Please do not share one login between several people: we cannot tell who
changed what.
""",
    ),
    Demo(
        "request-a-backup-restore",
        "backups-security",
        "How to request a backup restore",
        "We keep monthly backups of your site. Ask for a restore with a ticket; it has its "
        "own response time.",
        "restore, roll back, undo, backup, lost content, deleted page, go back",
        """## Before you ask

A restore puts the **whole site** back to the day of the backup: pages, posts, orders and
form entries made since then are lost. If you only deleted a page, look in **Pages → Trash**
first — WordPress keeps deleted pages for 30 days.

## Asking for a restore

Raise a ticket with the subject *Backup restore* and tell us:

- **Which site** (its address).
- **Which date** to go back to, or when the problem started.
- Whether anything added since then must be kept (recent orders, for example).

## How long it takes

A backup restoration is answered within **1 to 2 business days** on KIJO Care. If the
site is down because of the problem, say so: that makes it an emergency and it is dealt
with first.

Restoring a backup is included in KIJO Care. On other plans it is billed as support time.
""",
        visibility=Visibility.PORTAL,
    ),
    Demo(
        "updates-and-security-scans",
        "backups-security",
        "Updates and security scans: what we do each month",
        "Which updates we apply, how we test them, and what the monthly security scan looks at.",
        "plugins, wordpress update, core, security, vulnerability, scan, malware",
        """## Updates

Each month we update WordPress itself, your plugins and your theme. Before updating we
take a backup; after updating we check that the site still loads and shows what it should.
If an update breaks something we roll it back and open a ticket to fix it properly.

Security fixes for actively exploited problems are applied as soon as we hear of them,
without waiting for the monthly round.

## The security scan

The monthly scan compares the versions installed on your site with a database of known
vulnerabilities, and checks from the outside that:

- the certificate (the padlock) is valid and not about to expire;
- security headers are set;
- no backup files or configuration files can be downloaded;
- user names cannot be listed by strangers.

Anything serious becomes a ticket straight away; the rest is in your monthly report.
""",
    ),
    Demo(
        "monthly-report-explained",
        "plans-reports",
        "What your monthly maintenance report contains",
        "A line-by-line guide to the report we email on the 1st of every month.",
        "report, monthly report, maintenance report, uptime, pdf, email report",
        """On the 1st of each month the people you named as report recipients receive an email
with the report attached as a PDF. It covers the calendar month before, per website:

- **WordPress core** — whether it was updated, from which version to which.
- **Plugins and themes updated**, each with its old and new version.
- **Security scan** — what was found and what we did about it.
- **Uptime** — the percentage of the month your site was reachable, and each outage with
  its start and length. Planned maintenance windows are left out.
- **Response times** — how quickly the site answered, as a chart.
- **Backups** taken that month.
- **Tickets** opened and solved, and how many met their response time.
- **Support hours** used against your plan's allowance.

Past reports are kept in the client portal. To add or remove a recipient, raise a ticket.
""",
        visibility=Visibility.PORTAL,
    ),
    Demo(
        "support-hours-and-billing",
        "plans-reports",
        "Support hours, fair usage and what is billed extra",
        "How we count support time against your plan, and when work is billed separately.",
        "hours, allowance, overage, billable, invoice, fair usage, excluded, roll over",
        """We log the time spent on each ticket. Whether it is covered by your plan depends on
three things.

## 1. Is the kind of work included?

Each plan lists what it includes. On **KIJO Care**, new features, expanding the site,
changing off-the-shelf plugins, updating bespoke code and analytics integrations are not
included: they are charged per hour under KIJO Optimise. We tell you when a request is
outside your plan **before** starting work, with an estimate if you want one.

## 2. Fair usage

On KIJO Care a single ticket that takes longer than **2 hours in one calendar month** is
beyond fair usage, and that ticket is billed.

## 3. Your monthly hours

**Support Packages** include a number of hours each month. Unused hours do not roll over.
If a large job needs more, your account manager can agree to pool two months' hours.
Hours beyond the allowance are billed at your plan's hourly rate.

Your monthly statement lists every time entry and why it was or was not billed.
""",
        visibility=Visibility.PORTAL,
    ),
    Demo(
        "harbour-bakery-opening-hours",
        "your-website",
        "Changing the opening hours on the Harbour Bakery site",
        "The opening hours in the footer and on the Visit us page come from one place.",
        "opening times, hours, footer, visit us, bank holiday hours",
        """The opening hours appear in the footer of every page and on **Visit us**. Both read
the same settings, so change them once:

1. Sign in at `https://www.harbourbakery.example/wp-admin`.
2. Go to **Appearance → Customise → Shop details**.
3. Edit the hours for each day. Leave a day empty to show it as *Closed*.
4. For a one-off change (bank holidays, Christmas) use **Special hours** below: they show
   on the dates you give and disappear afterwards.
5. Click **Publish**.

If the footer still shows the old hours, the page cache has not cleared yet: it does so
within 10 minutes.
""",
        visibility=Visibility.PORTAL,
        organisation="Harbour Bakery Ltd",
    ),
    Demo(
        "handling-a-downtime-alert",
        "getting-help",
        "Handling a downtime alert: the first 30 minutes",
        "The agency's checklist when monitoring opens a downtime ticket.",
        "on call, alert, incident, runbook, outage, staff",
        """For agency staff. Monitoring has opened a critical ticket and its 2-hour clock is
running from the alert.

1. **Acknowledge**: assign the ticket to yourself and send the client a short public
   reply — "We know your site is down and are working on it."
2. **Confirm** from your own machine and a second network. Note the exact error.
3. **Check the host's status page** and the certificate's expiry date.
4. **Recent changes**: was anything updated in the last 24 hours? Roll it back first.
5. **Escalate** to the account manager if it is not fixed within 30 minutes.
6. When it is back: reply with the cause in plain words, log your time and solve the
   ticket. The incident closes by itself on recovery.
""",
        visibility=Visibility.STAFF,
    ),
    Demo(
        "updating-plugins-yourself",
        "backups-security",
        "Should you update plugins yourself?",
        "Why we ask you to leave updates to us, and what to do if you already clicked Update.",
        "update plugin yourself, auto update, broke after update",
        """We test each update before and after applying it, with a backup ready. An update
applied from the dashboard skips those steps.

If you already updated something and the site misbehaves, raise a ticket with the plugin's
name and the time you updated it: we can roll it back from the backup taken that morning.
""",
        status=Status.DRAFT,
    ),
]


@transaction.atomic
def load_demo_articles() -> int:
    """Create or update the demo categories and articles; returns rows written (0 on a re-run)."""
    writes = 0
    categories = {}
    for position, (slug, name, description) in enumerate(CATEGORIES):
        category, created = Category.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description, "position": position}
        )
        writes += created
        categories[slug] = category
    now = clock.now()
    for position, demo in enumerate(ARTICLES):
        organisation = None
        if demo.organisation:
            organisation = Organisation.objects.filter(name=demo.organisation).first()
            if organisation is None:
                continue
        values = {
            "title": demo.title,
            "category": categories[demo.category],
            "summary": demo.summary,
            "keywords": demo.keywords,
            "body": demo.body,
            "visibility": demo.visibility,
            "status": demo.status,
            "organisation": organisation,
            "position": position,
        }
        article = Article.objects.filter(slug=demo.slug).first()
        if article is None:
            article = Article(slug=demo.slug, created_at=now)
        elif all(getattr(article, key) == value for key, value in values.items()):
            continue
        for key, value in values.items():
            setattr(article, key, value)
        article.updated_at = now
        if article.status == Status.PUBLISHED and article.published_at is None:
            article.published_at = now
        article.full_clean()
        article.save()
        writes += 1
    return writes
