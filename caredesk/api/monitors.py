"""Uptime monitors for agency staff: list, read, and bulk import (CSV or JSON rows).

The import is the same as ``caredesk monitors import``: the whole request is
checked first and nothing is written unless every row is good. Secrets are
never read back: basic auth passwords and request header values stay in the
database (``has_auth`` and ``header_names`` say they are there).
"""

import json
from datetime import datetime

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from caredesk.clients import access
from caredesk.lib.csvimport import ImportReport
from caredesk.monitoring.engine.spec import parse_headers
from caredesk.monitoring.imports import COLUMNS, import_monitors, import_rows
from caredesk.monitoring.models import Kind, Monitor, MonitorWarning

from .schemas import ErrorOut

router = Router(tags=["monitors"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
CSV_TYPES = ("text/csv", "application/csv", "text/plain")


def _require_staff(request: HttpRequest) -> None:
    # Staff only as a whole: a client is refused before anything is looked up.
    if not access.is_staff(request.user):
        raise PermissionDenied("Only agency staff may read or import monitors")


class WarningOut(Schema):
    kind: str
    detail: str
    opened_at: datetime


class MonitorOut(Schema):
    id: int
    site_id: int
    organisation_id: int
    name: str
    kind: str = Field(description="http, tls, tcp, dns or heartbeat")
    target: str = Field(description="What is checked, in words")
    enabled: bool
    is_default: bool = Field(description="The site's own HTTP monitor, which follows its URL")
    key: str
    url: str
    host: str
    port: int | None
    method: str
    expected_status: str
    keyword: str
    keyword_absent: bool
    max_response_ms: int | None
    follow_redirects: bool
    has_body: bool
    header_names: list[str] = Field(description="Request headers sent; their values stay secret")
    has_auth: bool = Field(description="Basic auth is set; the password is never read back")
    tls_min_days: int
    record_type: str
    expected_values: list[str]
    nameserver: str
    interval_seconds: int
    grace_seconds: int
    timeout_seconds: int
    failures_to_down: int
    recoveries_to_up: int
    quorum: int | None
    allow_private: bool
    ping_url: str = Field(description="Heartbeats: the secret address the job calls")
    last_ping_at: datetime | None
    state: str = Field(description="up, down or unknown")
    state_since: datetime | None
    failure_cause: str
    last_checked_at: datetime | None
    warnings: list[WarningOut] = Field(description="Open warnings (certificate, late heartbeat)")

    @staticmethod
    def resolve_organisation_id(obj: Monitor) -> int:
        return obj.site.organisation_id

    @staticmethod
    def resolve_has_body(obj: Monitor) -> bool:
        return bool(obj.body)

    @staticmethod
    def resolve_header_names(obj: Monitor) -> list[str]:
        try:
            return [name for name, _ in parse_headers(obj.request_headers)]
        except ValueError:
            return []

    @staticmethod
    def resolve_has_auth(obj: Monitor) -> bool:
        return bool(obj.auth_user)

    @staticmethod
    def resolve_expected_values(obj: Monitor) -> list[str]:
        return [line.strip() for line in obj.expected_values.splitlines() if line.strip()]

    @staticmethod
    def resolve_warnings(obj: Monitor) -> list[MonitorWarning]:
        return [w for w in obj.warnings.all() if w.cleared_at is None]


def _monitors():
    open_warnings = MonitorWarning.objects.filter(cleared_at=None)
    return (
        Monitor.objects.select_related("site")
        .prefetch_related(Prefetch("warnings", queryset=open_warnings))
        .order_by("site__name", "kind", "pk")
    )


@router.get("monitors", response={200: list[MonitorOut], 401: ErrorOut, 403: ErrorOut})
@paginate(LimitOffsetPagination)
def list_monitors(
    request,
    site_id: int | None = None,
    organisation_id: int | None = None,
    kind: str | None = None,
    state: str | None = None,
):
    """Every monitor, filtered by site, client, kind or state (up, down, unknown)."""
    _require_staff(request)
    monitors = _monitors()
    if site_id is not None:
        monitors = monitors.filter(site_id=site_id)
    if organisation_id is not None:
        monitors = monitors.filter(site__organisation_id=organisation_id)
    if kind:
        if kind not in Kind.values:
            raise HttpError(422, f"kind must be one of {', '.join(Kind.values)}")
        monitors = monitors.filter(kind=kind)
    if state:
        monitors = monitors.filter(state=state)
    return monitors


@router.get("monitors/{int:monitor_id}", response={200: MonitorOut, **ERRORS})
def get_monitor(request, monitor_id: int):
    _require_staff(request)
    return access.get_or_404(_monitors(), monitor_id)


class ImportErrorOut(Schema):
    line: int | None = Field(None, description="CSV: the line the row starts on (0: the file)")
    row: int | None = Field(None, description="JSON: the row's position, from 1")
    message: str


class ImportOut(Schema):
    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    summary: str


class ImportRefusedOut(Schema):
    detail: str = Field(description="How many errors; nothing was imported")
    errors: list[ImportErrorOut]


IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "array", "items": {"type": "object"}},
                        {
                            "type": "object",
                            "properties": {"rows": {"type": "array", "items": {"type": "object"}}},
                        },
                    ]
                }
            },
        },
    }
}


def _read_body(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:
        raise HttpError(413, "The request is too large; split the rows over several") from None


def _json_rows(data: bytes) -> list:
    try:
        parsed = json.loads(data or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        raise HttpError(422, f"The body is not JSON: {error}") from None
    if isinstance(parsed, dict) and set(parsed) == {"rows"}:
        parsed = parsed["rows"]
    if not isinstance(parsed, list):
        raise HttpError(422, 'Send a list of rows, or {"rows": [...]}')
    return parsed


def _refused(report: ImportReport, unit: str) -> dict:
    return {
        "detail": report.summary(),
        "errors": [{unit: number, "message": message} for number, message in report.errors],
    }


@router.post(
    "monitors/import",
    response={
        200: ImportOut,
        401: ErrorOut,
        403: ErrorOut,
        413: ErrorOut,
        415: ErrorOut,
        422: ImportRefusedOut,
    },
    openapi_extra=IMPORT_BODY,
)
def import_monitors_api(request, dry_run: bool = False):
    """Create and update monitors from CSV (``Content-Type: text/csv``) or JSON rows.

    The columns (JSON: fields) are those of ``caredesk monitors import``. The
    whole request is checked first; if any row is bad, every error is
    returned (422) and nothing is written. ``dry_run=true`` checks only.
    """
    _require_staff(request)
    content_type = request.content_type or ""
    data = _read_body(request)
    if content_type == "application/json":
        report, unit = import_rows(_json_rows(data), dry_run=dry_run), "row"
    elif content_type in CSV_TYPES:
        report, unit = import_monitors(data, dry_run=dry_run), "line"
    else:
        raise HttpError(
            415,
            "Send text/csv or application/json (a list of rows with the columns: "
            f"{', '.join(COLUMNS)})",
        )
    if report.errors:
        return 422, _refused(report, unit)
    return {
        "dry_run": report.dry_run,
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "summary": report.summary(),
    }
