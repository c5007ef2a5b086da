"""A client's statements of support time, and their PDF and CSV.

The billing app has no client-facing download, so it is here: every
statement is loaded through ``billing.access.statements_for`` (finalised ones
of the client's own organisation, for its managers and billing contacts).
"""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from caredesk.billing.access import statements_for
from caredesk.billing.export import statement_csv, statement_pdf
from caredesk.billing.money import money

from .common import client_only


def may_see_statements(contact) -> bool:
    return contact.is_manager or contact.is_billing


@require_GET
@client_only
def statement_list(request):
    if not may_see_statements(request.contact):
        raise Http404("No such page")
    statements = list(statements_for(request.user).select_related("organisation")[:120])
    for statement in statements:
        statement.total_label = money(statement.total, statement.currency)
    return render(request, "portal/statements.html", {"statements": statements})


@require_GET
@client_only
def statement_file(request, pk: int, kind: str):
    statement = statements_for(request.user).select_related("organisation").filter(pk=pk).first()
    if statement is None or kind not in ("pdf", "csv"):
        raise Http404("No such statement")
    name = f"{statement.reference}-{statement.period_start:%Y-%m}.{kind}"
    if kind == "pdf":
        response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
    else:
        response = HttpResponse(statement_csv(statement), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
