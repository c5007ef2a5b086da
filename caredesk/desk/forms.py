from django import forms

from caredesk.accounts.models import STAFF_ROLES, User
from caredesk.plans.models import WorkCategory
from caredesk.sla.models import Priority
from caredesk.tickets.models import Status, Ticket

from .models import CannedReply


class ReplyForm(forms.Form):
    # The canned-reply picker sends the typed text along with it; a browser
    # "required" on an empty box would stop that request. The server says it instead.
    use_required_attribute = False

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


class CannedPickForm(forms.Form):
    canned = forms.ModelChoiceField(
        queryset=CannedReply.objects.filter(is_active=True),
        label="Canned reply",
        empty_label="Choose a canned reply…",
        error_messages={"invalid_choice": "That canned reply no longer exists."},
    )


class BulkForm(forms.Form):
    KEEP, NOBODY = "", "nobody"
    tickets = forms.ModelMultipleChoiceField(
        queryset=Ticket.objects.all(),
        error_messages={"required": "Select at least one ticket."},
    )
    assignee = forms.ChoiceField(required=False, label="Assign to")
    status = forms.ChoiceField(
        choices=[("", "Keep status"), *Status.choices], required=False, label="Set status"
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    MAX_TICKETS = 200

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        agents = User.objects.filter(role__in=STAFF_ROLES, is_active=True).order_by(
            "full_name", "email"
        )
        self.agents = {str(u.pk): u for u in agents}
        self.fields["assignee"].choices = [
            (self.KEEP, "Keep assignee"),
            (self.NOBODY, "Unassigned"),
            *((pk, u.get_full_name()) for pk, u in self.agents.items()),
        ]

    def clean_tickets(self):
        tickets = self.cleaned_data["tickets"]
        if len(tickets) > self.MAX_TICKETS:
            raise forms.ValidationError(f"Select at most {self.MAX_TICKETS} tickets at a time.")
        return tickets

    def clean(self):
        data = super().clean()
        if not data.get("assignee") and not data.get("status"):
            raise forms.ValidationError("Choose an assignee or a status to set.")
        return data

    @property
    def new_assignee(self):
        """KEEP, None (unassign) or a user."""
        choice = self.cleaned_data["assignee"]
        if choice == self.KEEP:
            return self.KEEP
        return None if choice == self.NOBODY else self.agents[choice]


class TimeForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=24 * 60, label="Minutes")
    work_date = forms.DateField(
        required=False, label="Date", widget=forms.DateInput(attrs={"type": "date"})
    )
    category = forms.ModelChoiceField(
        queryset=WorkCategory.objects.all(), required=False, empty_label="The ticket's category"
    )
    note = forms.CharField(required=False, max_length=1000)
