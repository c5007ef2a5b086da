"""A report's facts as people read them: the email (HTML and text), the PDF, the staff preview.

One content template serves all three, so the email, the PDF and what staff
preview cannot drift apart. They differ only in how the chart gets in (a PNG
by Content-ID for email clients, inline SVG elsewhere) and in the staff
preview's links from each figure to the records it was computed from.
"""

import calendar
import math
from datetime import date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe

from caredesk.billing.money import hours
from caredesk.billing.rules import EXCESS, Kind

from . import charts
from .branding import LOGO_CID, Brand, brand

EMAIL, PDF, PREVIEW = "email", "pdf", "preview"


def chart_cid(site_id: int) -> str:
    return f"chart-{site_id}"


# -- words and numbers ------------------------------------------------------------------------


def percent(value: float | None) -> str:
    """Uptime as a percentage that never rounds a down minute up to 100 %."""
    if value is None:
        return "not monitored"
    if value >= 100:
        return "100 %"
    return f"{math.floor(value * 100) / 100:.2f} %"


def duration(seconds: int) -> str:
    """A stretch of time in whole minutes, rounded up (a 20-second blip is 1 min)."""
    return hours(math.ceil(seconds / 60)) if seconds else "0 min"


def business(seconds: int | None) -> str:
    return "–" if seconds is None else f"{duration(seconds)} business time"


def local(iso: str | None) -> datetime | None:
    if not iso:
        return None
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(settings.TIME_ZONE))


def _url(name: str, *args, query: dict | None = None) -> str:
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode(query)}" if query else url


def plan_words(h: dict) -> str:
    """What the plan says about hours, in the plan's own terms."""
    plan = h["plan"]
    if not plan:
        return "No plan was in force: all work is on demand, billed per hour."
    if h["billed_per_hour"]:
        return f"{plan} is billed per hour."
    if h["allowance"] is None:
        words = f"{plan} does not count included work against an allowance of hours."
    else:
        pool = f" (pooled: {h['window_label']})" if h["pooled"] else ""
        words = (
            f"{plan} includes {hours(h['allowance'])} for {h['window_label']}{pool}; "
            "unused hours expire at the end of the period."
        )
    if h["fair_usage_cap"]:
        billed = (
            "the time past the limit is billed"
            if h["fair_usage_mode"] == EXCESS
            else "the ticket's time that month is billed"
        )
        words += (
            f" A ticket taking more than {hours(h['fair_usage_cap'])} in a calendar month "
            f"passes the fair-usage limit: {billed}."
        )
    return words


def _hours_rows(h: dict) -> list[dict]:
    labels = [
        (Kind.INCLUDED, "Included in the plan"),
        (Kind.OVERAGE, "Over the allowance (billed)"),
        (Kind.EXCLUDED, "Excluded work (billed)"),
        (Kind.FAIR_USAGE_EXCESS, "Past fair usage (billed)"),
        (Kind.ON_DEMAND, "On-demand work (billed)"),
    ]
    return [
        {"label": label, "time": hours(h[kind.value])}
        for kind, label in labels
        if h.get(kind.value) or kind == Kind.INCLUDED
    ]


def _site_hours(h: dict | None) -> dict:
    h = h or {}
    total = sum(h.get(k.value, 0) for k in Kind)
    billed = total - h.get(Kind.INCLUDED.value, 0)
    return {"total": hours(total), "billed": hours(billed), "any": bool(total)}


def _support(s: dict, mode: str) -> dict:
    tickets = [
        {**t, "url": _url("desk:ticket", t["number"]) if mode == PREVIEW else ""}
        for t in s["tickets"]
    ]
    decided = s["sla_met"] + s["sla_missed"]
    return {
        **s,
        "met_share": f"{round(100 * s['sla_met'] / decided)} %" if decided else "–",
        "median": business(s["median_first_response"]),
        "tickets": tickets,
    }


def _tls(t: dict | None) -> dict | None:
    if t is None:
        return None
    checked = local(t["checked_at"])
    if t["days_left"] is None:
        state = "not read" if t["ok"] else f"check failed: {t['error'] or 'no answer'}"
        good = t["ok"]
    elif t["days_left"] < 0:
        state, good = "expired", False
    else:
        expires = date.fromisoformat(t["expires"])
        state = f"valid until {expires:%-d %B %Y} ({t['days_left']} days left)"
        good = t["ok"]
    return {**t, "state": state, "good": good, "checked": checked}


def _uptime(u: dict, site_id: int, mode: str, month_days: int) -> dict:
    shape = charts.geometry(u["daily"], month_days)
    incidents = [
        {
            **i,
            "start": local(i["started_at"]),
            "length": duration(i["seconds"]) + (" so far" if i["ongoing"] else ""),
            "url": _url("admin:monitoring_incident_change", i["id"]) if mode == PREVIEW else "",
        }
        for i in u["incidents"]
    ]
    return {
        **u,
        "percent_text": percent(u["percent"]) if u["monitored"] else "not monitored",
        "down_text": duration(u["down_seconds"]),
        "maintenance_text": duration(u["maintenance_seconds"]) if u["maintenance_seconds"] else "",
        "incidents": incidents,
        "has_chart": shape is not None,
        "chart_svg": mark_safe(charts.svg(shape, "Response times"))
        if shape is not None and mode != EMAIL
        else "",
        "chart_cid": chart_cid(site_id),
        "tls": _tls(u["tls"]),
    }


SEVERITY_COLOURS = {
    "critical": "#8c1d18",
    "high": "#b3261e",
    "medium": "#b45309",
    "low": "#5b6478",
    "info": "#5b6478",
}
CHANGE_WORDS = {
    "updated": "updated",
    "downgraded": "rolled back",
    "installed": "installed",
    "removed": "removed",
}


def _size(size: int) -> str:
    if size >= 1024**3:
        return f"{size / 1024**3:.1f} GB"
    if size >= 1024**2:
        return f"{size / 1024**2:.0f} MB"
    return f"{max(1, round(size / 1024))} KB"


def _version_line(line: dict, mode: str) -> dict:
    if line["change"] in ("updated", "downgraded"):
        versions = f"{line['from'] or '?'} → {line['to'] or '?'}"
    elif line["change"] == "installed":
        versions = f"installed at {line['to']}" if line["to"] else "installed"
    else:
        versions = f"removed (was {line['from']})" if line["from"] else "removed"
    return {
        **line,
        "versions": versions,
        "words": CHANGE_WORDS.get(line["change"], line["change"]),
        "when": local(line["at"]),
    }


def _maintenance(m: dict | None, site_id: int, mode: str) -> dict | None:
    """The maintenance month in words: core, plugins and themes from → to, pending, the scan."""
    if m is None:
        return None
    scan = m.get("scan")
    if scan is not None:
        counts = [
            {"level": level, "count": count, "colour": SEVERITY_COLOURS[level]}
            for level, count in scan["counts"].items()
            if count
        ]
        scan = {
            **scan,
            "when": local(scan["last_at"]),
            "counted": counts,
            "all_clear": not scan["open"],
            "open": [{**f, "colour": SEVERITY_COLOURS[f["severity"]]} for f in scan["open"]],
        }
    backups = m.get("backups")
    if backups is not None:
        backups = {
            **backups,
            "taken": [
                {**b, "when": local(b["at"]), "size_text": _size(b["size"])}
                for b in backups["taken"]
            ],
            "restores": [{**r, "when": local(r["at"])} for r in backups["restores"]],
        }
    pending_core = [p for p in m["pending"] if p["kind"] == "core"]
    return {
        **m,
        "core": [_version_line(line, mode) for line in m["core"]],
        "extensions": [_version_line(line, mode) for line in m["plugins"] + m["themes"]],
        "php": [_version_line(line, mode) for line in m["php"]],
        "pending_core": pending_core[0] if pending_core else None,
        "pending_other": [p for p in m["pending"] if p["kind"] != "core"],
        "work": [{**w, "when": local(w["at"])} for w in m["work"]],
        "scan": scan,
        "backups": backups,
        "log_url": _url("admin:maintenance_logentry_changelist", query={"site__id__exact": site_id})
        if mode == PREVIEW
        else "",
    }


def present(facts: dict, mode: str) -> dict:
    """The facts as display values: every number formatted, every link built (preview only)."""
    year, month = (int(p) for p in facts["month"].split("-"))
    month_days = calendar.monthrange(year, month)[1]
    h = facts["hours"]
    org_id = facts["organisation"]["id"]
    sites = []
    for site in facts["sites"]:
        sites.append(
            {
                **site,
                "support": _support(site["support"], mode),
                "hours": _site_hours(site["hours"]),
                "uptime": _uptime(site["uptime"], site["id"], mode, month_days),
                "maintenance": _maintenance(site.get("maintenance"), site["id"], mode),
                "url_desk": _url("desk:site", site["id"]) if mode == PREVIEW else "",
            }
        )
    trace = {}
    if mode == PREVIEW:
        name = facts["organisation"]["name"]
        trace = {
            "client": _url("desk:client", org_id),
            "time": _url(
                "admin:billing_timeentry_changelist",
                query={
                    "q": name,
                    "work_date__gte": h["period_start"],
                    "work_date__lt": h["period_end"],
                },
            ),
            "statement": _url("admin:billing_statement_changelist", query={"q": name}),
            "ledger": _url("admin:billing_ledgerentry_changelist", query={"q": name}),
        }
    return {
        "month_label": f"{calendar.month_name[month]} {year}",
        "organisation": facts["organisation"],
        "sites": sites,
        "several_sites": len(sites) > 1,
        "support": _support(facts["support"], mode),
        "unsited_support": _support(facts["unsited_support"], mode)
        if facts.get("unsited_support")
        else None,
        "hours": {
            **h,
            "words": plan_words(h),
            "rows": _hours_rows(h),
            "allowance_text": hours(h["allowance"]) if h["allowance"] is not None else "",
            "used_text": hours(h[Kind.INCLUDED.value] + h["used_before"]),
            "left_text": hours(h["left"]) if h["left"] is not None else "",
            "billable_text": hours(h["billable"]),
            "reasons": [{**item, "time": hours(item["minutes"])} for item in h["reasons"]],
        },
        "trace": trace,
        "collected_at": local(facts["collected_at"]),
    }


# -- the three renderings ---------------------------------------------------------------------


def context(report, mode: str, the_brand: Brand | None = None) -> dict:
    the_brand = the_brand or brand()
    if mode == EMAIL:
        logo = f"cid:{LOGO_CID}" if the_brand.logo else ""
    else:
        logo = the_brand.logo_data_uri
    return {
        "report": report,
        "r": present(report.facts, mode),
        "brand": the_brand,
        "logo_src": logo,
        "mode": mode,
        "intro": report.intro,
        "agency_name": the_brand.name,
    }


def email_html(report) -> str:
    return render_to_string("emails/report_monthly.html", context(report, EMAIL))


def email_text(report) -> str:
    return render_to_string("emails/report_monthly.txt", context(report, EMAIL))


def subject(report) -> str:
    text = render_to_string("emails/report_monthly_subject.txt", context(report, EMAIL))
    return " ".join(text.split())


def preview_context(report) -> dict:
    return context(report, PREVIEW)


def pdf(report) -> bytes:
    """The report as an A4 PDF."""
    # Imported here: WeasyPrint takes a moment to load and only this needs it.
    from weasyprint import HTML

    html = render_to_string("reports/pdf.html", context(report, PDF))
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def chart_pngs(facts: dict) -> dict[str, bytes]:
    """Each site's chart as PNG by Content-ID, for the email."""
    year, month = (int(p) for p in facts["month"].split("-"))
    month_days = calendar.monthrange(year, month)[1]
    found = {}
    for site in facts["sites"]:
        image = charts.png(charts.geometry(site["uptime"]["daily"], month_days))
        if image is not None:
            found[chart_cid(site["id"])] = image
    return found
