from django import forms

from caredesk.accounts.models import STAFF_ROLES, User
from caredesk.plans.models import WorkCategory
from caredesk.sla.models import Priority
from caredesk.tickets.models import Status


class ReplyForm(forms.Form):
    KINDS = [
        ("public_reply", "Reply to client"),
        ("internal_note", "Internal note"),
        ("phone_call", "Log a phone call"),
    ]
    kind = forms.ChoiceField(choices=KINDS, initial="public_reply", widget=forms.RadioSelect)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "Write to the client, or a note"}),
        max_length=50_000,
        error_messages={"required": "Write something first."},
    )
    status = forms.ChoiceField(
        choices=[("", "Keep status"), *Status.choices],
        required=False,
        help_text="Set the ticket's status with this reply.",
    )


class PropertiesForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
    priority = forms.ModelChoiceField(queryset=Priority.objects.none(), required=False)
    assignee = forms.ModelChoiceField(
        queryset=User.objects.filter(role__in=STAFF_ROLES, is_active=True),
        required=False,
        empty_label="Unassigned",
    )
    category = forms.ModelChoiceField(
        queryset=WorkCategory.objects.all(), required=False, empty_label="No category"
    )

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        if ticket.sla_policy_id:
            self.fields["priority"].queryset = Priority.objects.filter(policy=ticket.sla_policy_id)
