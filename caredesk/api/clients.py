"""Organisations, contacts and sites. Reads follow ``clients.access``; writes are staff's."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import LimitOffsetPagination, paginate

from caredesk.accounts.models import User
from caredesk.clients import access, actions
from caredesk.clients.models import Organisation

from .schemas import (
    ContactIn,
    ContactOut,
    ContactPatch,
    ErrorOut,
    OrganisationIn,
    OrganisationOut,
    OrganisationPatch,
    SiteIn,
    SiteOut,
    SitePatch,
)

router = Router()
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _require_staff(request: HttpRequest) -> None:
    if not access.is_staff(request.user):
        raise PermissionDenied("Only agency staff may change clients, contacts and sites")


def _organisation_fields(data: dict) -> dict:
    if "account_manager" in data:
        email = data["account_manager"]
        manager = None
        if email:
            manager = User.objects.filter(email__iexact=email).first()
            if manager is None or not manager.is_agency_staff:
                raise ValidationError({"account_manager": f"No staff member with email {email}"})
        data["account_manager"] = manager
    if "email_domains" in data:
        data["email_domains"] = ", ".join(data["email_domains"])
    return data


def _organisation(organisation_id: int) -> Organisation:
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        raise ValidationError({"organisation_id": f"No organisation {organisation_id}"})
    return organisation


def _with_organisation(data: dict) -> dict:
    if "organisation_id" in data:
        data["organisation"] = _organisation(data.pop("organisation_id"))
    if data.get("url") is not None:
        data["url"] = str(data["url"])
    return data


@router.get("organisations", response=list[OrganisationOut], tags=["clients"])
@paginate(LimitOffsetPagination)
def list_organisations(request):
    return access.organisations_for(request.user).select_related("account_manager")


@router.get(
    "organisations/{int:organisation_id}",
    response={200: OrganisationOut, **ERRORS},
    tags=["clients"],
)
def get_organisation(request, organisation_id: int):
    return access.get_or_404(access.organisations_for(request.user), organisation_id)


@router.post("organisations", response={201: OrganisationOut, **ERRORS}, tags=["clients"])
def create_organisation(request, payload: OrganisationIn):
    _require_staff(request)
    fields = _organisation_fields(payload.dict())
    return 201, actions.create_organisation(acting_user=request.user, **fields)


@router.patch(
    "organisations/{int:organisation_id}",
    response={200: OrganisationOut, **ERRORS},
    tags=["clients"],
)
def update_organisation(request, organisation_id: int, payload: OrganisationPatch):
    organisation = access.get_or_404(access.organisations_for(request.user), organisation_id)
    _require_staff(request)
    changes = _organisation_fields(payload.dict(exclude_unset=True))
    return actions.save_validated(organisation, changes, acting_user=request.user)


@router.get("contacts", response=list[ContactOut], tags=["clients"])
@paginate(LimitOffsetPagination)
def list_contacts(request, organisation_id: int | None = None):
    contacts = access.contacts_for(request.user)
    if organisation_id is not None:
        contacts = contacts.filter(organisation_id=organisation_id)
    return contacts


@router.get("contacts/{int:contact_id}", response={200: ContactOut, **ERRORS}, tags=["clients"])
def get_contact(request, contact_id: int):
    return access.get_or_404(access.contacts_for(request.user), contact_id)


@router.post("contacts", response={201: ContactOut, **ERRORS}, tags=["clients"])
def create_contact(request, payload: ContactIn):
    _require_staff(request)
    fields = _with_organisation(payload.dict())
    return 201, actions.create_contact(acting_user=request.user, **fields)


@router.patch("contacts/{int:contact_id}", response={200: ContactOut, **ERRORS}, tags=["clients"])
def update_contact(request, contact_id: int, payload: ContactPatch):
    contact = access.get_or_404(access.contacts_for(request.user), contact_id)
    _require_staff(request)
    changes = _with_organisation(payload.dict(exclude_unset=True))
    return actions.save_validated(contact, changes, acting_user=request.user)


@router.get("sites", response=list[SiteOut], tags=["clients"])
@paginate(LimitOffsetPagination)
def list_sites(request, organisation_id: int | None = None):
    sites = access.sites_for(request.user)
    if organisation_id is not None:
        sites = sites.filter(organisation_id=organisation_id)
    return sites


@router.get("sites/{int:site_id}", response={200: SiteOut, **ERRORS}, tags=["clients"])
def get_site(request, site_id: int):
    return access.get_or_404(access.sites_for(request.user), site_id)


@router.post("sites", response={201: SiteOut, **ERRORS}, tags=["clients"])
def create_site(request, payload: SiteIn):
    _require_staff(request)
    fields = _with_organisation(payload.dict())
    return 201, actions.create_site(acting_user=request.user, **fields)


@router.patch("sites/{int:site_id}", response={200: SiteOut, **ERRORS}, tags=["clients"])
def update_site(request, site_id: int, payload: SitePatch):
    site = access.get_or_404(access.sites_for(request.user), site_id)
    _require_staff(request)
    changes = _with_organisation(payload.dict(exclude_unset=True))
    return actions.save_validated(site, changes, acting_user=request.user)
