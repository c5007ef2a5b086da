"""Deciding what kind of mail this is, so that caredesk never answers a robot.

Rules (docs/email.md explains them for admins): strongest evidence first —
a delivery report is a bounce; `X-Loop` is a loop; `Auto-Submitted`, auto-reply
headers, out-of-office subjects, `X-Auto-Response-Suppress`, an empty return path or a
mailer-daemon sender make an auto-reply; list headers make list mail; `Precedence:
bulk/junk` alone makes an auto-reply. Every rule that matched is given as a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from .charsets import clean_text, repair_surrogates
from .headers import HeaderSet, normalise_email, normalise_message_id
from .parsed import Bounce, Kind

_DAEMON = re.compile(r"mailer[-_]?daemon|mail-daemon|postmaster", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (?:status notification|failure|has failed)|mail delivery fail|"
    r"returned mail|failure notice|could not be delivered|unzustellbar|non remis|"
    r"non distribuable|onbestelbaar|delivery problem|nondeliverable",
    re.IGNORECASE,
)
_OOO_SUBJECT = re.compile(
    r"^\s*(?:out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?(?:reply|response)"
    r"|autoreply|abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique"
    r"|absence du bureau|autosvar|automatisk svar|automatisch antwoord|afwezigheidsbericht"
    r"|risposta automatica|respuesta autom[áa]tica|resposta autom[áa]tica"
    r"|automaattinen vastaus|odpowied[źz] automatyczna|automatick[áa] odpov[ěe][ďd]"
    r"|自動応答|自動返信|自动回复)(?:\s+autoreply)?\s*(?:[:：]|-\s|$)",
    re.IGNORECASE,
)
_OOO_HEADERS = ("x-autoreply", "x-autorespond", "x-auto-reply", "x-autoresponder")
_SUPPRESS_VALUES = frozenset({"all", "oof", "autoreply"})
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_SMTP_REPLY = re.compile(r"^\s*(?:.*?:\s*)?([45]\d\d[ -].+)$", re.MULTILINE)
# The bounded local part keeps the scan linear on long runs of word characters.
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]+(?:\.[\w-]+)+")
_COPY_MARKER = re.compile(
    r"^.*(?:copy of the (?:original )?message|original message follows|"
    r"below this line is a copy|undelivered message|returned message|message headers follow)"
    r".*$",
    re.IGNORECASE | re.MULTILINE,
)
_HEADER_MESSAGE_ID = re.compile(r"^\s*Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_DELAYED = re.compile(
    r"\bdelayed\b|will (?:continue|retry) (?:trying|to)|not yet been delivered", re.IGNORECASE
)


_MAX_NOTICE = 64 * 1024


@dataclass(frozen=True)
class Classification:
    kind: Kind
    reasons: tuple[str, ...]
    is_out_of_office: bool


def classify(
    headers: HeaderSet,
    *,
    subject: str,
    empty_return_path: bool,
    report_type: str | None,
    bounce: Bounce | None,
) -> Classification:
    """Classify a message from its headers, subject and any delivery report found."""
    strong = _auto_reasons(headers, subject, empty_return_path, report_type)
    ooo = _is_out_of_office(headers, subject)
    listed = _list_reasons(headers)
    weak = _precedence_bulk(headers)
    loop = ["X-Loop"] if headers.has("x-loop") else []
    reasons = tuple(dict.fromkeys([*loop, *strong, *listed, *weak]))
    if bounce is not None:
        kind: Kind = "bounce"
    elif loop:
        kind = "loop"
    elif strong:
        kind = "auto_reply"
    elif listed:
        kind = "list"
    elif weak:
        kind = "auto_reply"
    else:
        kind = "normal"
    return Classification(kind, reasons, ooo and kind == "auto_reply")


def _auto_reasons(
    headers: HeaderSet, subject: str, empty_return_path: bool, report_type: str | None
) -> list[str]:
    reasons = []
    auto_submitted = _auto_submitted(headers)
    if headers.has("auto-submitted") and auto_submitted != "no":
        reasons.append(f"Auto-Submitted: {auto_submitted[:60] or '(empty)'}")
    reasons.extend(h.title() for h in _OOO_HEADERS if headers.has(h))
    if _OOO_SUBJECT.match(subject):
        reasons.append("out-of-office subject")
    suppress = {
        v.strip().lower() for v in (headers.text("x-auto-response-suppress") or "").split(",")
    }
    if suppress & _SUPPRESS_VALUES:
        reasons.append("X-Auto-Response-Suppress")
    if empty_return_path:
        reasons.append("empty return path")
    if is_daemon(headers):
        reasons.append("from mailer-daemon")
    if report_type == "delivery-status":
        reasons.append("delivery status report")
    elif report_type == "disposition-notification":
        reasons.append("read receipt")
    elif report_type:
        reasons.append(f"report: {report_type[:60]}")
    return reasons


def _auto_submitted(headers: HeaderSet) -> str:
    """The Auto-Submitted keyword without parameters or comments ("no (by hand)")."""
    value = re.sub(r"\([^()]*\)", "", headers.text("auto-submitted") or "")
    return value.split(";")[0].strip().lower()


def _is_out_of_office(headers: HeaderSet, subject: str) -> bool:
    return (
        _auto_submitted(headers) == "auto-replied"
        or any(headers.has(h) for h in _OOO_HEADERS)
        or bool(_OOO_SUBJECT.match(subject))
    )


def _list_reasons(headers: HeaderSet) -> list[str]:
    reasons = [name for name in ("List-Id", "List-Unsubscribe") if headers.has(name)]
    if (headers.text("precedence") or "").strip().lower() == "list":
        reasons.append("Precedence: list")
    return reasons


def _precedence_bulk(headers: HeaderSet) -> list[str]:
    value = (headers.text("precedence") or "").strip().lower()
    return [f"Precedence: {value}"] if value in ("bulk", "junk") else []


def is_daemon(headers: HeaderSet) -> bool:
    """From a mailer-daemon or postmaster (read from the raw field: it often has no domain)."""
    sender = headers.text("from") or ""
    bracketed = re.search(r"<([^<>]*)>", sender)
    address = bracketed.group(1) if bracketed else re.sub(r"\([^()]*\)", "", sender)
    local = address.strip().split("@")[0].strip().strip('"')
    return bool(_DAEMON.fullmatch(local))


def find_bounce(
    headers: HeaderSet,
    *,
    subject: str,
    text: str,
    empty_return_path: bool,
    report_type: str | None,
    delivery_status: list[str],
    returned_headers: list[Message],
) -> Bounce | None:
    """Read a delivery failure report, standard (RFC 3464) or the common plain kinds."""
    is_report = bool(delivery_status) or report_type == "delivery-status"
    if not is_report:
        robot = empty_return_path or is_daemon(headers)
        if not robot or not (_BOUNCE_SUBJECT.search(subject) or returned_headers):
            return None
    original_id = _original_message_id(returned_headers, text)
    if is_report:
        return _from_dsn("\n\n".join(delivery_status), text, original_id)
    return _from_text(text, original_id)


def _from_dsn(report: str, text: str, original_id: str | None) -> Bounce:
    fields = _dsn_recipient_fields(report)
    failed = [f for f in fields if f.get("action", "").startswith("failed")] or fields
    first = failed[0] if failed else {}
    status = _STATUS.search(first.get("status", "")) if first else None
    action = first.get("action", "").split()[0] if first.get("action") else None
    status_code = status.group(1) if status else None
    if status_code is None and action is None:
        return _from_text(text, original_id)
    recipients = tuple(dict.fromkeys(r for f in failed if (r := _recipient(f))))
    return Bounce(
        recipients=recipients,
        action=action,
        status=status_code,
        diagnostic=_short(first.get("diagnostic-code")),
        original_message_id=original_id,
        permanent=action == "failed" or (status_code or "").startswith("5"),
    )


def _dsn_recipient_fields(report: str) -> list[dict[str, str]]:
    """Per-recipient field blocks of a delivery-status body (blank-line separated)."""
    blocks = []
    for chunk in re.split(r"\n\s*\n", report.replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        name = ""
        for line in chunk.split("\n"):
            if line[:1] in (" ", "\t") and name:
                fields[name] += " " + line.strip()
            elif ":" in line:
                name, value = line.split(":", 1)
                name = name.strip().lower()
                fields.setdefault(name, value.strip())
        if "final-recipient" in fields or "original-recipient" in fields or "action" in fields:
            blocks.append(fields)
    return blocks


def _recipient(fields: dict[str, str]) -> str | None:
    for name in ("original-recipient", "final-recipient"):
        value = fields.get(name, "")
        address = value.split(";", 1)[-1].strip()
        email = normalise_email(address)
        if email:
            return email
    return None


def _from_text(text: str, original_id: str | None) -> Bounce:
    """Plain bounces (Exim, qmail, old Sendmail): read the human-readable part."""
    marker = _COPY_MARKER.search(text)
    # The notice is a few lines; a bounded slice keeps a forged huge "bounce" cheap.
    human = text[: marker.start() if marker else len(text)][:_MAX_NOTICE]
    status = _STATUS.search(human)
    reply = _SMTP_REPLY.search(human)
    status_code = status.group(1) if status else None
    delayed = bool(_DELAYED.search(human)) or (status_code or "").startswith("4")
    recipients = tuple(
        dict.fromkeys(
            a.lower() for a in _ADDRESS.findall(human) if not _DAEMON.fullmatch(a.split("@")[0])
        )
    )
    return Bounce(
        recipients=recipients[:50],
        action="delayed" if delayed else "failed",
        status=status_code,
        diagnostic=_short(reply.group(1) if reply else _last_sorry(human)),
        original_message_id=original_id,
        permanent=not delayed,
    )


def _last_sorry(text: str) -> str | None:
    for line in text.splitlines():
        if line.strip().lower().startswith(("sorry", "remote host said", "the error that")):
            return line
    return None


def _original_message_id(returned: list[Message], text: str) -> str | None:
    for message in returned:
        for name, value in message.raw_items():
            if name.lower() == "message-id":
                found = normalise_message_id(clean_text(repair_surrogates(str(value), [], "")))
                if found:
                    return found
    marker = _COPY_MARKER.search(text)
    if marker:
        match = _HEADER_MESSAGE_ID.search(text, marker.end())
        if match:
            return normalise_message_id(match.group(1))
    return None


def _short(value: str | None) -> str | None:
    if not value:
        return None
    return " ".join(value.split())[:500] or None
