from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404
from django.shortcuts import redirect, render

from .imports import KINDS, import_csv

MAX_UPLOAD = 10 * 1024 * 1024
_MODELS = {"organisations": "organisation", "contacts": "contact", "sites": "site"}


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file (UTF-8)")
    dry_run = forms.BooleanField(
        required=False, initial=True, label="Dry run: check the file, import nothing"
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError("The file is larger than 10 MB; split it.")
        return upload


@staff_member_required
def import_csv_view(request, kind: str):
    if kind not in KINDS:
        raise Http404("No such import")
    model = _MODELS[kind]
    if not request.user.has_perm(f"clients.add_{model}"):
        raise Http404("No such import")
    report = None
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        report = import_csv(
            kind,
            form.cleaned_data["file"].read(),
            dry_run=form.cleaned_data["dry_run"],
            acting_user=request.user,
        )
        if report.ok and not report.dry_run:
            messages.success(request, f"Imported {kind}: {report.summary()}")
            return redirect(f"admin:clients_{model}_changelist")
    return render(
        request,
        "admin/ops/import.html",
        {
            "title": f"Import {kind} from CSV",
            "kind": kind,
            "spec": KINDS[kind],
            "form": form,
            "report": report,
            "changelist": f"admin:clients_{model}_changelist",
        },
    )
