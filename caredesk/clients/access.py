"""What a signed-in user may see of clients, contacts and sites.

Every view and API endpoint loads these objects through here, so the rule
"no client ever sees another client's data" lives in one tested place.
Agency staff see every client; a client contact sees its own organisation;
within it, a requester sees only its own contact record, a manager all of them.
"""

from django.db.models import QuerySet
from django.http import Http404

from .models import Contact, Organisation, Site


def contact_of(user) -> Contact | None:
    """The active client contact behind a login, or None for staff and strangers."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    try:
        contact = user.contact
    except Contact.DoesNotExist:
        return None
    if not contact.is_active or not contact.organisation.is_active:
        return None
    return contact


def is_staff(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_agency_staff)


def organisations_for(user) -> QuerySet[Organisation]:
    if is_staff(user):
        return Organisation.objects.all()
    contact = contact_of(user)
    if contact is None:
        return Organisation.objects.none()
    return Organisation.objects.filter(pk=contact.organisation_id)


def contacts_for(user) -> QuerySet[Contact]:
    if is_staff(user):
        return Contact.objects.select_related("organisation")
    contact = contact_of(user)
    if contact is None:
        return Contact.objects.none()
    if contact.is_manager:
        return Contact.objects.filter(organisation_id=contact.organisation_id)
    return Contact.objects.filter(pk=contact.pk)


def sites_for(user) -> QuerySet[Site]:
    if is_staff(user):
        return Site.objects.select_related("organisation")
    contact = contact_of(user)
    if contact is None:
        return Site.objects.none()
    return Site.objects.filter(organisation_id=contact.organisation_id, is_active=True)


def get_or_404(queryset: QuerySet, pk: int):
    """One object from an access-filtered queryset; missing and forbidden look the same."""
    try:
        return queryset.get(pk=pk)
    except queryset.model.DoesNotExist:
        raise Http404(f"No {queryset.model._meta.verbose_name} {pk}") from None
