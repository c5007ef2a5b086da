"""Changes to clients, contacts and sites, validated the same way from every door.

The admin, the CSV import and the API all end here, so a rule checked once
(``full_clean``) holds whichever way the data arrives.
"""

from typing import Any

from django.db import transaction

from .models import Contact, Organisation, Site


@transaction.atomic
def save_validated(instance, changes: dict[str, Any], *, acting_user=None):
    """Apply ``changes``, run every model check, save. Raises ValidationError on bad input."""
    roles = changes.pop("roles", None)
    for field, value in changes.items():
        setattr(instance, field, value)
    if roles is not None and isinstance(instance, Contact):
        instance.set_roles(list(roles))
    instance.full_clean()
    instance.save()
    return instance


def create_organisation(*, acting_user=None, **fields) -> Organisation:
    return save_validated(Organisation(), fields, acting_user=acting_user)


def create_contact(*, acting_user=None, **fields) -> Contact:
    return save_validated(Contact(), fields, acting_user=acting_user)


def create_site(*, acting_user=None, **fields) -> Site:
    return save_validated(Site(), fields, acting_user=acting_user)
