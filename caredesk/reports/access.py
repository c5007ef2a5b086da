"""Which reports a user may see.

Staff see every report, drafts and held ones included. At a client, the
report recipients and the managers see their own organisation's reports once
sent (the archive); nobody else at the client sees any, and no client ever
sees a draft.
"""

from django.db.models import QuerySet

from caredesk.clients.access import contact_of, is_staff

from .models import Report, ReportState


def may_see_reports(contact) -> bool:
    return contact is not None and (contact.is_manager or contact.is_report_recipient)


def reports_for(user) -> QuerySet[Report]:
    if is_staff(user):
        return Report.objects.all()
    contact = contact_of(user)
    if not may_see_reports(contact):
        return Report.objects.none()
    return Report.objects.filter(organisation_id=contact.organisation_id, state=ReportState.SENT)
