"""Which tickets and attachments a user may see.

Staff see every ticket. A client manager sees the organisation's tickets; a
requester sees the tickets it raised or follows. Clients never see internal
notes, nor files attached to them.
"""

from django.db.models import Q, QuerySet

from caredesk.clients.access import contact_of, is_staff

from .models import Attachment, MessageKind, Ticket


def tickets_for(user) -> QuerySet[Ticket]:
    if is_staff(user):
        return Ticket.objects.all()
    contact = contact_of(user)
    if contact is None:
        return Ticket.objects.none()
    mine = Ticket.objects.filter(organisation_id=contact.organisation_id)
    if contact.is_manager:
        return mine
    return mine.filter(Q(requester=contact) | Q(followers=contact)).distinct()


def attachments_for(user) -> QuerySet[Attachment]:
    attachments = Attachment.objects.filter(message__ticket__in=tickets_for(user))
    if not is_staff(user):
        attachments = attachments.exclude(message__kind=MessageKind.INTERNAL_NOTE)
    return attachments
