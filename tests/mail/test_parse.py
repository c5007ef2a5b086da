"""parse_message never crashes on bad input, stays fast on huge input, and loses nothing."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caredesk.mail.parse import ParsedMessage, ParseFailure, parse_message
from caredesk.mail.parts import MAX_DEPTH
from tests.mail.make_corpus import big_attachment_message, deep_message, many_recipients_message

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.eml"))
CORPUS_BYTES = [path.read_bytes() for path in CORPUS]
FUZZ = settings(
    max_examples=250,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the project
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty message"),
        (b"   \r\n\t\n", "empty message"),
        (b"just some words\nno headers here\n", "no mail headers"),
        (b"\x00\x01\x02\xff" * 10, "no mail headers"),
        (b"X-Only-Custom: 1\n\nbody", "no mail headers"),
    ],
)
def test_nothing_usable_raises_parse_failure_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(ParseFailure) as failure:
        parse_message(raw)
    assert reason in failure.value.reason


def test_message_over_the_size_limit_is_refused() -> None:
    with pytest.raises(ParseFailure) as failure:
        parse_message(b"From: a@b.example\n\n" + b"x" * 2000, max_message_bytes=1000)
    assert "over the 1000 limit" in failure.value.reason


def test_str_input_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        parse_message("From: a@b.example\n\nhi")  # type: ignore[arg-type]


def test_bytearray_and_memoryview_are_accepted() -> None:
    raw = b"From: a@b.example\nSubject: s\n\nhi"
    assert parse_message(bytearray(raw)).text == parse_message(memoryview(raw)).text == "hi"


def test_result_is_immutable() -> None:
    message = parse_message(b"From: a@b.example\nSubject: s\n\nhi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.subject = "changed"  # type: ignore[misc]
    assert isinstance(message.attachments, tuple)
    assert isinstance(message.headers, tuple)


def test_ten_megabyte_attachment_parses_quickly() -> None:
    raw = big_attachment_message(10 * 2**20)
    started = time.perf_counter()
    message = parse_message(raw)
    assert time.perf_counter() - started < 2
    (attachment,) = message.attachments
    assert attachment.filename == "backup.zip"
    assert attachment.size == 10 * 2**20
    assert attachment.content[:4] == bytes(range(4))
    assert message.text == "The backup archive is attached."


def test_attachment_over_the_limit_is_listed_without_content() -> None:
    message = parse_message(big_attachment_message(3 * 2**20), max_attachment_bytes=2**20)
    (attachment,) = message.attachments
    assert attachment.omitted
    assert attachment.size == 3 * 2**20
    assert attachment.content == b""


def test_a_thousand_recipients_in_to_and_cc() -> None:
    started = time.perf_counter()
    message = parse_message(many_recipients_message(1000))
    assert time.perf_counter() - started < 2
    assert len(message.to) == 1000
    assert len(message.cc) == 1000
    assert message.to[0].name == "Client 0"
    assert message.cc[-1].email == "staff999@agency.example"


def test_nesting_past_the_cap_keeps_the_deep_parts_as_files() -> None:
    message = parse_message(deep_message(MAX_DEPTH + 10))
    assert any("MIME nesting deeper" in d for d in message.defects)
    assert [a.content for a in message.attachments] == [b"Bottom text.\n"]


def test_nesting_too_deep_for_the_stdlib_keeps_the_body_as_text() -> None:
    message = parse_message(deep_message(1500))
    assert any("MIME structure unreadable" in d for d in message.defects)
    assert "Bottom text." in message.text


def test_very_long_header_line_and_many_encoded_words() -> None:
    raw = (
        b"From: a@b.example\nSubject: "
        + b"=?utf-8?q?caf=C3=A9?= " * 20_000
        + b"\nX-Long: "
        + b"x" * 1_000_000
        + b"\n\nbody\n"
    )
    started = time.perf_counter()
    message = parse_message(raw)
    assert time.perf_counter() - started < 3
    assert message.subject.startswith("cafécafé")
    assert message.text == "body"


def test_nul_bytes_never_reach_the_result() -> None:
    message = parse_message(b"From: a\x00b@c.example\nSubject: x\x00y\n\nbo\x00dy\n")
    assert message.subject == "xy"
    assert message.text == "body"
    assert all("\x00" not in value for _name, value in message.headers)


def test_bare_lf_crlf_and_cr_only_line_endings_read_alike() -> None:
    lf = b"From: a@b.example\nSubject: s\n\nline one\nline two\n"
    for raw in (lf, lf.replace(b"\n", b"\r\n"), lf.replace(b"\n", b"\r")):
        message = parse_message(raw)
        assert message.subject == "s"
        assert message.text == "line one\nline two"


def test_blank_lines_before_the_headers_are_tolerated() -> None:
    message = parse_message(b"\r\n\r\nFrom: a@b.example\nSubject: s\n\nhi\n")
    assert message.subject == "s"
    assert "blank lines before the headers removed" in message.defects


def test_html_only_message_gets_text_and_reply_text() -> None:
    message = parse_message(
        b"From: a@b.example\nSubject: s\nContent-Type: text/html; charset=utf-8\n\n"
        b"<p>New text</p><div>On Tue, X &lt;x@y.example&gt; wrote:</div>"
        b"<blockquote><p>Old text</p></blockquote><script>alert(1)</script>"
    )
    assert message.text == "New text\n\nOn Tue, X <x@y.example> wrote:\n\n> Old text"
    assert message.reply_text == "New text"
    assert message.html is not None and "<script" not in message.html


def _check_result(message: ParsedMessage) -> None:
    """What must hold for any input that parses."""
    for text in (message.subject, message.text, message.reply_text, message.html or ""):
        text.encode("utf-8")
        assert "\x00" not in text
    for attachment in message.attachments:
        assert attachment.filename
        assert "/" not in attachment.filename and "\\" not in attachment.filename
    assert message.kind in ("normal", "auto_reply", "bounce", "list", "loop")


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_only_ever_raise_parse_failure(raw: bytes) -> None:
    try:
        message = parse_message(raw)
    except ParseFailure as failure:
        assert failure.reason
        assert not failure.reason.startswith("internal")
        return
    _check_result(message)


_TOKENS = [
    b"\n", b"\r\n", b"\x00", b"\xff", b"\xc3", b"=?utf-8?q?", b"=?", b"?=", b"--", b"\n--",
    b"Content-Type: multipart/mixed; boundary=x\n", b"\n--x\n", b"\n--x--\n",
    b"Content-Transfer-Encoding: base64\n", b"Content-Transfer-Encoding: quoted-printable\n",
    b"charset=", b"charset=utf-7", b"<", b">", b"@", b";", b'"', b"\\", b"=", b"(", b")",
    b"begin 644 a.txt\n", b"end\n", b"On Tue, X wrote:\n", b"> ", b"From: ", b"\nTo: ",
    b"message/rfc822", b"multipart/report; report-type=delivery-status", b"filename*0*=",
    b"application/ms-tnef", b"Auto-Submitted: ", b"format=flowed", b"<blockquote>",
]  # fmt: skip


@st.composite
def _mutated_corpus_message(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(CORPUS_BYTES)))
    for _ in range(draw(st.integers(1, 12))):
        position = draw(st.integers(0, len(data)))
        operation = draw(st.integers(0, 3))
        if operation == 0:
            data[position:position] = draw(st.sampled_from(_TOKENS))
        elif operation == 1:
            del data[position : position + draw(st.integers(1, 80))]
        elif operation == 2 and data:
            data[min(position, len(data) - 1)] = draw(st.integers(0, 255))
        else:
            start = draw(st.integers(0, len(data)))
            data[position:position] = data[start : start + draw(st.integers(1, 200))]
    return bytes(data)


@FUZZ
@given(_mutated_corpus_message())
def test_mutated_corpus_messages_only_ever_raise_parse_failure(raw: bytes) -> None:
    try:
        message = parse_message(raw)
    except ParseFailure as failure:
        assert not failure.reason.startswith("internal")
        return
    _check_result(message)


_SLOW_FOR_NAIVE_PARSERS = {
    "many Content-Type parameters": b"Content-Type: text/plain" + b"; a=b" * 30_000 + b"\n",
    "file name of encoded words": b"Content-Type: application/pdf\n"
    b'Content-Disposition: attachment; filename="' + b"=?utf-8?q?a?=" * 30_000 + b'"\n',
    "RFC 2231 continuations": b"Content-Type: application/pdf\nContent-Disposition: attachment;"
    + b"".join(b" filename*%d*=a;" % i for i in range(10_000))
    + b"\n",
    "nested comments in From": b"Cc: " + b"(" * 30_000 + b"a@b.example\n",
    "deeply nested HTML": b"Content-Type: text/html\n\n" + b"<div>" * 100_000,
    "uuencode line of spaces": b"\nbegin 644 a" + b" " * 200_000 + b"x\n",
}


@pytest.mark.parametrize("extra", _SLOW_FOR_NAIVE_PARSERS.values(), ids=_SLOW_FOR_NAIVE_PARSERS)
def test_inputs_that_stall_naive_parsers_stay_fast(extra: bytes) -> None:
    raw = b"From: a@b.example\nSubject: s\n" + extra + (b"" if b"\n\n" in extra else b"\nbody\n")
    started = time.perf_counter()
    message = parse_message(raw)
    assert time.perf_counter() - started < 2
    _check_result(message)


def test_forged_huge_bounce_stays_fast() -> None:
    raw = b"From: MAILER-DAEMON@x.example\nSubject: Undelivered Mail\n\n" + b"a" * 2_000_000
    started = time.perf_counter()
    assert parse_message(raw).kind == "bounce"
    assert time.perf_counter() - started < 2


def test_too_deep_html_is_not_shown_but_its_text_is_kept() -> None:
    raw = b"From: a@b.example\nContent-Type: text/html\n\n" + b"<div>" * 2000 + b"hello"
    message = parse_message(raw)
    assert message.html is None
    assert message.text == "hello"
    assert "HTML nested too deeply to show; its text is kept" in message.defects
