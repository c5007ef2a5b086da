"""Header fields: encoded words, addresses, message ids and dates read leniently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.policy import default as default_policy

import pytest

from caredesk.mail.headers import (
    MAX_REFERENCES,
    decode_words,
    normalise_email,
    normalise_id_list,
    normalise_message_id,
    parse_addresses,
    parse_date,
)
from caredesk.mail.parse import parse_message, synthetic_message_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<abc@host.example>", "<abc@host.example>"),
        ("  <abc@host.example>  ", "<abc@host.example>"),
        ("abc@host.example", "<abc@host.example>"),
        ("<abc@host.example> (comment)", "<abc@host.example>"),
        ("<abc\r\n @host.example>", "<abc@host.example>"),
        ("<CAJx5=Q9+Yp/4r@mail.gmail.example>", "<CAJx5=Q9+Yp/4r@mail.gmail.example>"),
        ("", None),
        ("   ", None),
        (None, None),
        ("<>", None),
    ],
)
def test_message_id_is_normalised(value: str | None, expected: str | None) -> None:
    assert normalise_message_id(value) == expected


def test_message_id_keeps_case() -> None:
    # Message-IDs are case-sensitive; lower-casing would break threading with Outlook.
    assert normalise_message_id("<AbC@Host>") == "<AbC@Host>"


def test_id_lists_are_deduplicated_in_order() -> None:
    value = "<a@x> <b@x>\r\n <a@x>\t<c@x>"
    assert normalise_id_list(value) == ("<a@x>", "<b@x>", "<c@x>")


def test_in_reply_to_with_prose_around_the_id() -> None:
    value = 'Your message of "Tue, 1 Apr 2025" <orig@host.example> (added by sendmail)'
    assert normalise_id_list(value) == ("<orig@host.example>",)


def test_bare_ids_without_brackets_are_accepted() -> None:
    assert normalise_id_list("a@x b@x") == ("<a@x>", "<b@x>")


def test_very_long_references_keep_the_root_and_the_latest() -> None:
    value = " ".join(f"<r{i}@x>" for i in range(500))
    ids = normalise_id_list(value)
    assert len(ids) == MAX_REFERENCES
    assert ids[0] == "<r0@x>"
    assert ids[-1] == "<r499@x>"


def test_synthetic_id_is_stable_and_depends_on_the_bytes() -> None:
    raw = b"From: a@b.example\nSubject: hi\n\nbody\n"
    first = parse_message(raw)
    again = parse_message(raw)
    other = parse_message(raw + b"more\n")
    assert first.synthetic_message_id == again.synthetic_message_id == synthetic_message_id(raw)
    assert first.synthetic_message_id != other.synthetic_message_id
    assert first.synthetic_message_id.startswith("<sha256-")
    assert first.synthetic_message_id.endswith("@caredesk.invalid>")
    assert first.message_id is None
    assert first.dedupe_id == first.synthetic_message_id


def test_dedupe_id_prefers_the_message_id() -> None:
    message = parse_message(b"From: a@b.example\nMessage-ID: <m@x>\n\nbody\n")
    assert message.dedupe_id == "<m@x>"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=?utf-8?q?Caf=C3=A9?=", "Café"),
        ("=?UTF-8?B?Q2Fmw6k=?=", "Café"),
        ("=?utf-8?q?a?= =?utf-8?q?b?=", "ab"),  # whitespace between words is folding
        ("=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab"),
        ("=?utf-8?q?a?= plain =?utf-8?q?b?=", "a plain b"),
        ("=?utf-8?b?4pyT?=", "✓"),
        ("=?utf-8?b?IOKc?= =?utf-8?b?kyBvaw==?=", " ✓ ok"),  # a character split between words
        ("=?iso-8859-1?q?J=FCrgen?=", "Jürgen"),
        ("=?utf-8*en?q?hello?=", "hello"),  # RFC 2231 language suffix
        ("=?utf-8?q?broken_?=tail", "broken tail"),
        ("=?utf-8?B?Q2Fmw6k?=", "Café"),  # missing padding
        ("=?no-such-charset?q?hello?=", "hello"),
        ("=?ISO-2022-JP?B?GyRCMUQ2SBsoQg==?=", "営業"),
        ("no words here", "no words here"),
        ("line\r\n folded", "line folded"),
        ("nul\x00byte", "nulbyte"),
    ],
)
def test_encoded_words_are_decoded_leniently(value: str, expected: str) -> None:
    assert decode_words(value, [], "test") == expected


def test_a_bad_charset_in_an_encoded_word_is_recorded() -> None:
    defects: list[str] = []
    decode_words("=?utf-8?q?Caf=E9?=", defects, "Subject")
    assert any("Subject" in d and "utf-8" in d for d in defects)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Jane.Doe@Example.COM", "jane.doe@example.com"),
        ("<info@XN--MLLER-KVA.example>", "info@müller.example"),
        ("user@example.com.", "user@example.com"),
        ("not-an-address", None),
        ("@example.com", None),
        ("user@localhost", None),
        ("two words@example.com", None),
        ("", None),
    ],
)
def test_email_addresses_are_normalised(value: str, expected: str | None) -> None:
    assert normalise_email(value) == expected


def test_address_lists_with_groups_quotes_and_encoded_names() -> None:
    defects: list[str] = []
    found = parse_addresses(
        '"O\'Neill, Kieran" <K.ONeill@Bakery.example>, undisclosed-recipients:;, '
        "=?utf-8?q?Zo=C3=AB?= <zoe@cafe.example>, bare@host.example, broken",
        defects,
        "To",
    )
    assert [(a.name, a.email) for a in found] == [
        ("O'Neill, Kieran", "k.oneill@bakery.example"),
        ("Zoë", "zoe@cafe.example"),
        ("", "bare@host.example"),
    ]
    assert any("broken" in d for d in defects)


@pytest.mark.parametrize(
    "value",
    [
        "Jo Marsh <Jo.Marsh@Bakery.example>",
        "Jo Marsh<jo@bakery.example>",
        " jo+forms@bakery.example ",
        "Client 110 <client110@bakery.example>, pat@bakery.example",
        "<jo@xn--mller-kva.example>",
        # Not the plain shapes: read by the full parser.
        "J. Marsh <jo@bakery.example>",
        "Jo  Marsh <jo@bakery.example>",
        "jo..marsh@bakery.example",
        "jo@bakery.example (Jo)",
        "jo@bakery.example,",
    ],
)
def test_plain_addresses_read_as_the_full_parser_reads_them(value: str) -> None:
    defects: list[str] = []
    found = parse_addresses(value, defects, "To")
    header = default_policy.header_factory("To", value)
    expected = [
        (" ".join(a.display_name.split()), normalise_email(a.addr_spec)) for a in header.addresses
    ]
    assert [(a.name, a.email) for a in found] == expected
    assert defects == []


def test_a_thousand_recipients_are_all_read() -> None:
    value = ", ".join(f'"Client {i}" <client{i}@customers.example>' for i in range(1000))
    found = parse_addresses(value, [], "To")
    assert len(found) == 1000
    assert found[999].name == "Client 999"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "Tue, 4 Mar 2025 10:12:00 +0100",
            datetime(2025, 3, 4, 10, 12, tzinfo=timezone(timedelta(hours=1))),
        ),
        (
            "Tue, 4 Mar 2025 10:12:00 +0100 (CET)",
            datetime(2025, 3, 4, 10, 12, tzinfo=timezone(timedelta(hours=1))),
        ),
        ("Tue, 4 Mar 2025 10:12:00 -0000", datetime(2025, 3, 4, 10, 12, tzinfo=UTC)),
        ("4 Mar 2025 10:12 GMT", datetime(2025, 3, 4, 10, 12, tzinfo=UTC)),
        ("Tue, 4 Mar 2025 10.12.00 +0000", datetime(2025, 3, 4, 10, 12, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_dates_are_aware_or_none(value: str | None, expected: datetime | None) -> None:
    parsed = parse_date(value, [])
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None


def test_all_headers_are_kept_decoded_in_order() -> None:
    message = parse_message(
        b"Received: from a\nFrom: =?utf-8?q?Zo=C3=AB?= <z@x.example>\n"
        b"X-Custom: one\nX-Custom: two\nSubject: s\n\nbody\n"
    )
    assert message.headers == (
        ("Received", "from a"),
        ("From", "Zoë <z@x.example>"),
        ("X-Custom", "one"),
        ("X-Custom", "two"),
        ("Subject", "s"),
    )


def test_subject_whitespace_is_collapsed_and_never_none() -> None:
    assert parse_message(b"From: a@b.example\nSubject:  a \n\t b\n\nx").subject == "a b"
    assert parse_message(b"From: a@b.example\n\nx").subject == ""


def test_duplicate_to_headers_are_merged_not_dropped() -> None:
    message = parse_message(b"From: a@b.example\nTo: one@x.example\nTo: two@x.example\n\nx")
    assert [a.email for a in message.to] == ["one@x.example", "two@x.example"]
    assert "duplicate to header (merged)" in message.defects


def test_envelope_recipients_and_empty_return_path() -> None:
    message = parse_message(
        b"Return-Path: <>\nDelivered-To: Support@Agency.example\n"
        b"X-Original-To: support+abc@agency.example\nFrom: a@b.example\n\nx"
    )
    assert message.delivered_to == ("support@agency.example", "support+abc@agency.example")
    assert message.return_path == "<>"
    assert message.empty_return_path
