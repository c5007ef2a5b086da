from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from .auth import TokenAuth
from .clients import router as clients_router
from .monitors import router as monitors_router
from .probe import router as probe_router
from .time import router as time_router
from .widget import router as widget_router

api = NinjaAPI(
    title="caredesk API",
    version="1",
    description=(
        "Token-authenticated JSON API. Send `Authorization: Bearer <token>`; "
        'tokens are created per user in the admin. Errors are JSON: `{"detail": …}`.'
    ),
    auth=TokenAuth(),
    urls_namespace="api",
)
api.add_router("/", clients_router)
api.add_router("/", time_router)
api.add_router("/", monitors_router)
api.add_router("/widget/", widget_router)
api.add_router("/", probe_router)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(request, {"detail": "Missing or invalid API token"}, status=401)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": str(exc) or "Not found"}, status=404)


@api.exception_handler(PermissionDenied)
def forbidden(request, exc):
    return api.create_response(request, {"detail": str(exc) or "You may not do this"}, status=403)


@api.exception_handler(ValidationError)
def invalid(request, exc: ValidationError):
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(NinjaValidationError)
def invalid_request(request, exc: NinjaValidationError):
    return api.create_response(request, {"detail": exc.errors}, status=422)


@api.exception_handler(IntegrityError)
def conflict(request, exc):
    return api.create_response(
        request, {"detail": "This conflicts with an existing record"}, status=409
    )


@api.exception_handler(DataError)
def unstorable(request, exc):
    return api.create_response(
        request,
        {"detail": "A value cannot be stored (too long, or it contains a NUL character)"},
        status=422,
    )


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return api.create_response(request, {"detail": exc.message}, status=exc.status_code)
