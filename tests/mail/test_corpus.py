"""Every message in the corpus parses, and says what corpus/EXPECTED.json says it does.

The corpus is raw mail as Outlook, Gmail, Apple Mail, phones, voicemail systems,
mailing lists, autoresponders and bounce servers write it, plus broken mail. Each file
name says what it is; EXPECTED.json lists the facts that matter for each.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from unittest import mock

import pytest

from caredesk.mail import parse as parse_module
from caredesk.mail.parse import Attachment, ParsedMessage, ParseFailure, parse_message

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict] = json.loads((CORPUS / "EXPECTED.json").read_text(encoding="utf-8"))
FILES = sorted(p.name for p in CORPUS.glob("*.eml"))
_SURROGATE_OR_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def test_corpus_is_big_and_every_file_has_expectations() -> None:
    assert len(FILES) >= 60
    assert set(FILES) == set(EXPECTED), "EXPECTED.json and corpus/*.eml must list the same files"


def test_committed_corpus_stays_small() -> None:
    assert sum((CORPUS / name).stat().st_size for name in FILES) < 1_000_000


@pytest.mark.parametrize("name", FILES)
def test_corpus_message(name: str) -> None:
    expected = EXPECTED[name]
    raw = (CORPUS / name).read_bytes()
    if "parse_failure" in expected:
        with pytest.raises(ParseFailure) as failure:
            parse_message(raw)
        assert expected["parse_failure"] in failure.value.reason
        return
    message = parse_message(raw)
    _check_invariants(message, raw)
    _check_envelope(message, expected)
    _check_body(message, expected)
    _check_attachments(message, expected)
    _check_classification(message, expected)


def _check_invariants(message: ParsedMessage, raw: bytes) -> None:
    """What every parse must give, whatever the input."""
    assert message.size == len(raw)
    assert re.fullmatch(r"<sha256-[0-9a-f]{64}@caredesk\.invalid>", message.synthetic_message_id)
    assert message.date is None or message.date.tzinfo is not None
    texts = [message.subject, message.text, message.reply_text, message.html or ""]
    texts += [value for _name, value in message.headers]
    texts += [a.name for a in (*message.to, *message.cc, *message.reply_to)]
    for text in texts:
        assert not _SURROGATE_OR_CONTROL.search(text)
        text.encode("utf-8")  # storable
    if message.text:
        assert message.reply_text, "reply_text falls back to text, never to nothing"
    for attachment in message.attachments:
        assert attachment.filename and attachment.filename.strip() == attachment.filename
        assert "/" not in attachment.filename and "\\" not in attachment.filename
        assert not attachment.filename.startswith(".")
        assert attachment.size == len(attachment.content) or attachment.omitted
    assert not any(d.startswith("internal") for d in message.defects)


def _emails(addresses: tuple) -> list[str]:
    return [a.email for a in addresses]


def _check_envelope(message: ParsedMessage, expected: dict) -> None:
    if "from" in expected:
        assert (message.from_.email if message.from_ else None) == expected["from"]
    if "from_name" in expected:
        assert message.from_ is not None and message.from_.name == expected["from_name"]
    if "sender" in expected:
        assert message.sender is not None and message.sender.email == expected["sender"]
    for field in ("to", "cc", "reply_to"):
        if field in expected:
            assert _emails(getattr(message, field)) == expected[field]
    for email, name in expected.get("cc_names", {}).items():
        assert {a.email: a.name for a in message.cc}[email] == name
    if "delivered_to" in expected:
        assert list(message.delivered_to) == expected["delivered_to"]
    if "subject" in expected:
        assert message.subject == expected["subject"]
    if "subject_contains" in expected:
        assert expected["subject_contains"] in message.subject
    if "message_id" in expected:
        assert message.message_id == expected["message_id"]
    if "in_reply_to" in expected:
        assert list(message.in_reply_to) == expected["in_reply_to"]
    if "references" in expected:
        assert list(message.references) == expected["references"]
    if "references_count" in expected:
        assert len(message.references) == expected["references_count"]
    if "date" in expected:
        wanted = expected["date"] and datetime.fromisoformat(expected["date"])
        assert message.date == wanted
        if wanted:
            assert message.date.utcoffset() == wanted.utcoffset()


def _check_body(message: ParsedMessage, expected: dict) -> None:
    for field in ("text", "reply_text", "html"):
        if field in expected:
            assert getattr(message, field) == expected[field]
    for field, value in (("text", message.text), ("reply", message.reply_text)):
        for needle in expected.get(f"{field}_contains", []):
            assert needle in value, f"{field} lacks {needle!r}"
        for needle in expected.get(f"{field}_excludes", []):
            assert needle not in value, f"{field} still has {needle!r}"
    for needle in expected.get("html_contains", []):
        assert message.html is not None and needle in message.html
    for needle in expected.get("html_excludes", []):
        assert needle not in (message.html or "")


def _check_attachments(message: ParsedMessage, expected: dict) -> None:
    by_name = {a.filename: a for a in message.attachments}
    if "attachments" in expected:
        assert [a.filename for a in message.attachments] == expected["attachments"]
    for name, content_type in expected.get("attachment_types", {}).items():
        assert by_name[name].content_type == content_type
    for name, start in expected.get("attachment_starts", {}).items():
        assert by_name[name].content.startswith(start.encode("latin-1"))
    for name, needle in expected.get("attachment_contains", {}).items():
        assert needle.encode() in by_name[name].content
    inline_ids = [a.content_id for a in message.attachments if a.inline]
    if "inline" in expected:
        assert inline_ids == expected["inline"]
    for name in expected.get("not_inline", []):
        assert not by_name[name].inline


def _check_classification(message: ParsedMessage, expected: dict) -> None:
    assert message.kind == expected["kind"]
    assert message.may_auto_reply == (expected["kind"] == "normal")
    assert bool(message.auto_reasons) == (expected["kind"] != "normal")
    if "reasons" in expected:
        assert list(message.auto_reasons) == expected["reasons"]
    for reason in expected.get("reasons_include", []):
        assert reason in message.auto_reasons
    if "is_out_of_office" in expected:
        assert message.is_out_of_office is expected["is_out_of_office"]
    if expected["kind"] != "auto_reply":
        assert not message.is_out_of_office
    if expected.get("no_defects"):
        assert message.defects == ()
    for needle in expected.get("defects_contain", []):
        assert any(needle in d for d in message.defects), f"no defect mentions {needle!r}"
    _check_bounce(message, expected)


def _check_bounce(message: ParsedMessage, expected: dict) -> None:
    if expected["kind"] != "bounce":
        assert message.bounce is None
        return
    bounce, wanted = message.bounce, expected["bounce"]
    assert bounce is not None
    assert bounce.original_message_id == wanted["original_message_id"]
    assert list(bounce.recipients) == wanted["recipients"]
    assert bounce.permanent is wanted["permanent"]
    if "status" in wanted:
        assert bounce.status == wanted["status"]
    if "action" in wanted:
        assert bounce.action == wanted["action"]
    if "diagnostic_contains" in wanted:
        assert wanted["diagnostic_contains"] in (bounce.diagnostic or "")


# policy.default unescapes "\w" inside a quoted file name; compat32 keeps the backslash
# and so strips the Windows path. Both names are safe.
_COMPAT_NAME_DIFFERS = {"attachment_path_traversal_name.eml"}


def test_compatibility_mode_reads_the_corpus_alike() -> None:
    """The compat32 fallback (used for huge MIME headers) gives the same results."""
    for name in FILES:
        if "parse_failure" in EXPECTED[name]:
            continue
        raw = (CORPUS / name).read_bytes()
        modern = parse_message(raw)
        with mock.patch.object(parse_module, "_mime_fields_too_big", return_value=True):
            classic = parse_message(raw)
        for field in (
            "kind",
            "subject",
            "from_",
            "to",
            "cc",
            "text",
            "reply_text",
            "html",
            "bounce",
        ):
            assert getattr(classic, field) == getattr(modern, field), (name, field)
        assert [_file_facts(a, name) for a in classic.attachments] == [
            _file_facts(a, name) for a in modern.attachments
        ], name


def _file_facts(attachment: Attachment, name: str) -> tuple:
    shown = None if name in _COMPAT_NAME_DIFFERS else attachment.filename
    return (shown, attachment.content_type, attachment.content, attachment.content_id)
