"""Which statements a user may see.

Staff see every statement, drafts included. A client contact who is a manager
or the billing contact sees its own organisation's finalised statements;
nobody else at the client sees any, and no client ever sees a draft.
"""

from django.db.models import QuerySet

from caredesk.clients.access import contact_of, is_staff

from .models import Statement, StatementStatus


def statements_for(user) -> QuerySet[Statement]:
    if is_staff(user):
        return Statement.objects.all()
    contact = contact_of(user)
    if contact is None or not (contact.is_manager or contact.is_billing):
        return Statement.objects.none()
    return Statement.objects.filter(
        organisation_id=contact.organisation_id, status=StatementStatus.FINAL
    )
