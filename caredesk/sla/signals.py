"""Any change to an SLA set-up gives every policy a new revision (see cache.py).

Staff change policies rarely and through ``save()`` and ``delete()`` (the admin,
``import_policy``), which these receivers hear. Code that changes the tables
another way (a queryset's ``update()``, SQL by hand) must call ``changed()``.
"""

from django.db.models.signals import post_delete, post_save

from . import cache
from .models import BusinessCalendar, Priority, SlaPolicy, Target, new_revision


def changed() -> str:
    """Mark every policy changed, in the caller's transaction; returns the new revision."""
    revision = new_revision()
    SlaPolicy.objects.update(revision=revision)
    # This process may hold an instance read before the change: keep nothing.
    cache.forget()
    return revision


def _on_change(sender, instance, **kwargs) -> None:
    revision = changed()
    if isinstance(instance, SlaPolicy):
        instance.revision = revision


def connect() -> None:
    for model in (SlaPolicy, Priority, Target, BusinessCalendar):
        post_save.connect(
            _on_change, sender=model, dispatch_uid=f"sla.changed.save.{model.__name__}"
        )
        post_delete.connect(
            _on_change, sender=model, dispatch_uid=f"sla.changed.delete.{model.__name__}"
        )
