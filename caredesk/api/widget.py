"""The site widget's endpoints: public, keyed by a site's widget key, cross-origin.

Every answer to an allowed origin carries CORS headers, refusals included, so
the widget can show the visitor what went wrong; a page of any other origin
gets a 403 without them and the browser keeps the answer from its scripts.
"""

import re

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from ninja import Router, Schema

from caredesk.clients.models import Site
from caredesk.tickets.attachments import max_bytes
from caredesk.widget import actions, intake, ratelimit

from .schemas import ErrorOut

router = Router(tags=["widget"], auth=None)
KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
HOUR = 3600
# Room for the text fields and multipart framing on top of the largest attachment.
BODY_ALLOWANCE = 1024 * 1024


class FormOut(Schema):
    token: str
    max_attachment_mb: int
    min_fill_seconds: int


class ConfirmationOut(Schema):
    number: int
    reference: str
    promise: str | None
    timezone: str | None


class FieldErrorsOut(Schema):
    detail: str
    errors: dict[str, list[str]]


class Refusal(Exception):
    def __init__(self, status: int, detail: str, *, origin: str | None = None, **headers: str):
        self.status, self.detail, self.origin, self.headers = status, detail, origin, headers


def _json(data: dict, status: int, origin: str | None, **headers: str) -> JsonResponse:
    response = JsonResponse(data, status=status)
    response["Vary"] = "Origin"
    response["Cache-Control"] = "no-store"
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Expose-Headers"] = "Retry-After"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _refused(refusal: Refusal) -> JsonResponse:
    return _json({"detail": refusal.detail}, refusal.status, refusal.origin, **refusal.headers)


def _site_and_origin(request: HttpRequest, key: str) -> tuple[Site, str]:
    """The site behind ``key`` and the calling page's origin, if both may use the widget."""
    site = None
    if KEY.match(key):
        site = Site.objects.select_related("organisation").filter(widget_key=key).first()
    if site is None:
        raise Refusal(404, "Unknown site key: check the data-site attribute of the snippet.")
    if not (site.widget_enabled and site.is_active and site.organisation.is_active):
        raise Refusal(403, "The help form is not switched on for this site.")
    origin = request.headers.get("Origin", "")
    if not origin:
        raise Refusal(403, "No Origin header: the help form works only from a web page.")
    if origin.lower() not in site.widget_allowed_origins:
        raise Refusal(
            403,
            f"Pages on {origin[:200]} may not use this site's help form; "
            "the agency can add it to the site's allowed origins.",
        )
    return site, origin


def _rate_limit(request: HttpRequest, site: Site, origin: str) -> None:
    per_ip = getattr(settings, "CAREDESK_WIDGET_RATE_PER_IP", 10)
    per_site = getattr(settings, "CAREDESK_WIDGET_RATE_PER_SITE", 60)
    address = intake.client_ip(request) or "unknown"
    for key, limit, who in (
        (f"ip:{address}", per_ip, "from your address"),
        (f"site:{site.pk}", per_site, "for this site"),
    ):
        wait = ratelimit.hit(key, limit, HOUR)
        if wait is not None:
            minutes = -(-wait // 60)
            raise Refusal(
                429,
                f"Too many requests {who}. Please try again in {minutes} minute"
                f"{'s' if minutes != 1 else ''}.",
                origin=origin,
                Retry_After=str(wait),
            )


def _preflight(request: HttpRequest, key: str, methods: str) -> HttpResponse:
    try:
        _, origin = _site_and_origin(request, key)
    except Refusal as refusal:
        return _refused(refusal)
    response = HttpResponse(status=204)
    response["Vary"] = "Origin"
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Methods"] = methods
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "600"
    return response


@router.api_operation(["OPTIONS"], "{key}/form", include_in_schema=False)
def form_preflight(request: HttpRequest, key: str):
    return _preflight(request, key, "GET, OPTIONS")


@router.api_operation(["OPTIONS"], "{key}/tickets", include_in_schema=False)
def tickets_preflight(request: HttpRequest, key: str):
    return _preflight(request, key, "POST, OPTIONS")


@router.get("{key}/form", response={200: FormOut, 403: ErrorOut, 404: ErrorOut})
def widget_form(request: HttpRequest, key: str):
    """What the widget needs to show its form: a fresh form token and the file limit."""
    try:
        site, origin = _site_and_origin(request, key)
    except Refusal as refusal:
        return _refused(refusal)
    data = {
        "token": intake.issue_token(site),
        "max_attachment_mb": settings.CAREDESK_MAX_ATTACHMENT_MB,
        "min_fill_seconds": intake.min_fill_seconds(),
    }
    return _json(data, 200, origin)


@router.post(
    "{key}/tickets",
    response={
        201: ConfirmationOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        422: FieldErrorsOut,
        429: ErrorOut,
    },
)
def widget_ticket(request: HttpRequest, key: str):
    """A visitor's ticket (multipart form): name, email, subject, description, attachment."""
    try:
        site, origin = _site_and_origin(request, key)
        _rate_limit(request, site, origin)
        form = _read_form(request, origin)
    except Refusal as refusal:
        return _refused(refusal)
    if not form.is_valid():
        return _field_errors(form.errors.get_json_data(), origin)
    check = intake.spam_check(site, form)
    if check.spam is not None:
        reason, detail = check.spam
        actions.do_quarantine(
            site,
            reason=reason,
            detail=detail,
            fields=form.cleaned_data,
            meta={
                "origin": origin,
                "client_ip": intake.client_ip(request),
                "user_agent": request.headers.get("User-Agent", ""),
            },
        )
        answer = intake.decoy_confirmation(site, form.cleaned_data["email"])
        return _json(answer, 201, origin)
    if check.expired:
        return _field_errors(
            {"token": [{"message": "The form was open a long time: please send it again."}]},
            origin,
        )
    try:
        ticket = actions.do_file_submission(site, form.request())
    except ValidationError as error:
        detail = error.message_dict if hasattr(error, "error_dict") else {"form": error.messages}
        return _field_errors(
            {field: [{"message": m} for m in messages] for field, messages in detail.items()},
            origin,
        )
    return _json(intake.confirmation(ticket), 201, origin)


def _read_form(request: HttpRequest, origin: str) -> intake.WidgetForm:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    too_big = f"The request is too large: files up to {settings.CAREDESK_MAX_ATTACHMENT_MB} MB."
    if length > max_bytes() + BODY_ALLOWANCE:
        raise Refusal(413, too_big, origin=origin)
    try:
        return intake.WidgetForm(request.POST, request.FILES)
    except RequestDataTooBig:
        raise Refusal(413, too_big, origin=origin) from None
    except (TooManyFieldsSent, TooManyFilesSent, MultiPartParserError):
        raise Refusal(400, "The form could not be read.", origin=origin) from None


def _field_errors(errors: dict, origin: str) -> JsonResponse:
    messages = {
        ("form" if field == "__all__" else field): [e["message"] for e in items]
        for field, items in errors.items()
    }
    return _json({"detail": "Please check the fields marked.", "errors": messages}, 422, origin)
