"""The new part of a reply: quoted history and signature removed.

mail-parser-reply finds the "On ... wrote:" / "From: ... Sent: ..." headers that start
quoted history and the usual signatures. Around it we keep its regexes away from input
that makes them slow, refuse its cuts when they would drop what the client wrote, and
leave forwarded mail whole (the forwarded part *is* the request).
"""

from __future__ import annotations

import re

from mailparser_reply.parser import EmailMessage, EmailReply

# Languages whose patterns are safe on English-language tickets: the Danish, Polish and
# Swedish sets match ordinary words ("Take", "Data:", "/wp-admin") as headers or sign-offs.
LANGUAGES = ("en", "de", "fr", "es", "nl", "it", "ja")
# The library's header patterns backtrack heavily on long lines (40 s for one 40 kB
# line), so it sees at most this much text, and long lines only as placeholders.
_MAX_INPUT = 32 * 1024
_MAX_LINE = 300
_PLACEHOLDER = "\ue000{}\ue001"
_PLACEHOLDER_RE = re.compile("\ue000(\\d+)\ue001")

_FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|fw|wg|tr|rv|enc|i|vs|doorst)\s*:", re.IGNORECASE)
_FORWARD_BODY = re.compile(
    r"^\s*(?:-{3,}\s*(?:Forwarded message|Original Message|Weitergeleitete Nachricht|"
    r"Message transféré)\s*-{3,}|Begin forwarded message:|Anfang der weitergeleiteten)",
    re.IGNORECASE | re.MULTILINE,
)
_SIGNOFF_ONLY = re.compile(r"^(?:--|__|sent from|get outlook|gesendet von|envoy)", re.IGNORECASE)


def is_forward(subject: str, text: str) -> bool:
    """Whether the message forwards another one rather than replying to it."""
    return bool(_FORWARD_SUBJECT.match(subject)) and bool(_FORWARD_BODY.search(text[:_MAX_INPUT]))


def strip_reply(text: str, subject: str = "") -> str:
    """`text` without quoted history and signature; `text` itself if nothing would remain."""
    whole = text.strip()
    if not whole or is_forward(subject, text):
        return whole
    head = text[:_MAX_INPUT]
    long_lines: list[str] = []

    def protect(match: re.Match[str]) -> str:
        long_lines.append(match.group(0))
        return _PLACEHOLDER.format(len(long_lines) - 1)

    protected = re.sub(rf"[^\n]{{{_MAX_LINE + 1},}}", protect, head)
    try:
        message = EmailMessage(text=protected, languages=list(LANGUAGES), keep_hyphen_lists=True)
        replies = message.read().replies
    except Exception:  # a library failure must not lose the message
        return whole
    if not replies or replies[0].headers:
        return whole  # it opens with quoted history: nothing new above it
    first = replies[0]
    cut = len(replies) > 1 or _plausible_signature(first.signatures)
    if not cut:
        return whole
    body = _without_signature(first)
    body = _PLACEHOLDER_RE.sub(lambda m: long_lines[int(m.group(1))], body)
    return body.strip() or whole


def _without_signature(reply: EmailReply) -> str:
    # Not `reply.body`: that also deletes "disclaimer" sentences, which match ordinary
    # client text such as "Warning: the contact form mail never arrives".
    content = str(reply.content).replace(reply.headers or "", "")
    if _plausible_signature(reply.signatures):
        content = content.replace(reply.signatures, "")
    return content.strip()


def _plausible_signature(signature: str | None) -> bool:
    """A cut at "Thanks," is right for "Thanks,\\nJane", wrong for "Thanks, it works now."."""
    if not signature:
        return False
    first = next((line.strip() for line in signature.splitlines() if line.strip()), "")
    if _SIGNOFF_ONLY.match(first):
        return True
    return len(first) <= 40 and not (len(first.split()) > 2 and first[-1:] in ".!?")
