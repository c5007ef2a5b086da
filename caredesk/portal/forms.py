"""The portal's forms: every field a client sends is checked here before any action runs."""

import unicodedata

from django import forms
from django.conf import settings

from caredesk.tickets.attachments import Incoming, refusal

from .actions import Upload

MAX_FILES = 10


class EmailForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        error_messages={
            "required": "Type your email address.",
            "invalid": "That is not an email address.",
        },
    )


class PasswordSignInForm(forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    """Any number of files (up to MAX_FILES), each within the ticket attachment rules."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        items = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(items) > MAX_FILES:
            raise forms.ValidationError(f"Attach at most {MAX_FILES} files at a time.")
        errors, uploads = [], []
        limit = settings.CAREDESK_MAX_ATTACHMENT_MB * 1024 * 1024
        for item in items:
            name = clean_filename(getattr(item, "name", "") or "file")
            if item.size > limit:
                # Refused before reading: a huge file is never pulled into memory.
                errors.append(f"{name}: larger than {settings.CAREDESK_MAX_ATTACHMENT_MB} MB")
                continue
            content = item.read()
            content_type = (getattr(item, "content_type", "") or "application/octet-stream")[:200]
            reason = refusal(Incoming(name, content_type, content))
            if reason:
                errors.append(f"{name}: {reason}")
                continue
            uploads.append(Upload(name, content_type, content))
        if errors:
            raise forms.ValidationError(errors)
        return uploads


def clean_filename(name: str) -> str:
    """A file's own name without folders or control characters (never a path on disk)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[:200] or "file"


class TicketForm(forms.Form):
    subject = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "Give your request a short title."},
    )
    category = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="Not sure — let the team decide",
        label="What kind of request is it?",
    )
    site = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Not about one site", label="Which website?"
    )
    description = forms.CharField(
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        label="Describe what you need",
        help_text="What happens, where (a page address helps), and since when.",
        error_messages={"required": "Tell us what you need."},
    )
    files = FilesField(label="Attachments")

    def __init__(self, *args, categories, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories
        self.fields["site"].queryset = sites
        if not sites.exists():
            del self.fields["site"]


class ReplyForm(forms.Form):
    body = forms.CharField(
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Your reply",
        error_messages={"required": "Write something first."},
    )
    files = FilesField(label="Attachments")
