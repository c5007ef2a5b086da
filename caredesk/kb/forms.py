from django import forms

from .actions import MAX_COMMENT
from .query import clean


class SearchForm(forms.Form):
    """What someone typed into a search box. Never invalid: what cannot be searched is dropped."""

    q = forms.CharField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # NUL bytes and over-long text are cleaned, not refused: a pasted paragraph still searches.
        self.fields["q"].validators = []

    def clean_q(self) -> str:
        return clean(self.cleaned_data["q"])


class FeedbackForm(forms.Form):
    helpful = forms.ChoiceField(
        choices=[("yes", "Yes"), ("no", "No")],
        error_messages={"required": "Choose yes or no.", "invalid_choice": "Choose yes or no."},
    )
    comment = forms.CharField(
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": f"Keep the comment under {MAX_COMMENT} characters."},
    )


class StatsForm(forms.Form):
    PERIODS = [(30, "Last 30 days"), (90, "Last 90 days"), (365, "Last 12 months")]
    days = forms.TypedChoiceField(choices=PERIODS, coerce=int, required=False, empty_value=30)
