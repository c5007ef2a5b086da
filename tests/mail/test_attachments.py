"""Attachment names are safe; winmail.dat and uuencoded files are unpacked."""

from __future__ import annotations

import pytest
from tnefparse import TNEF

from caredesk.mail.attachments import extract_uuencoded, safe_filename, unpack_tnef
from caredesk.mail.parsed import Attachment
from tests.mail.make_corpus import UU_CONTENT, build_tnef, uuencode_file


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("report.pdf", "application/pdf", "report.pdf"),
        ("../../etc/passwd", "text/plain", "passwd"),
        ("C:\\Users\\jane\\Desktop\\invoice.pdf", "application/pdf", "invoice.pdf"),
        ("..", "application/pdf", "attachment-3.pdf"),
        ("   ", "image/jpeg", "attachment-3.jpg"),
        (None, "audio/x-wav", "attachment-3.wav"),
        (None, "application/x-unknown-thing", "attachment-3.bin"),
        ("evil\x00name\r\n.txt", "text/plain", "evilname.txt"),
        ('a<b>c:d"e|f?g*h.txt', "text/plain", "a_b_c_d_e_f_g_h.txt"),
        (".htaccess", "text/plain", "htaccess"),
        ("x" * 300 + ".pdf", "application/pdf", "x" * 196 + ".pdf"),
    ],
)
def test_file_names_are_made_safe(name: str | None, content_type: str, expected: str) -> None:
    assert safe_filename(name, content_type, 3) == expected


def _original(data: bytes) -> Attachment:
    return Attachment("winmail.dat", "application/ms-tnef", data, size=len(data))


def test_winmail_dat_is_unpacked_with_long_names_and_body() -> None:
    blob = build_tnef(
        "Body text\r\n",
        [("A.PDF", "Angebot für Müller.pdf", b"%PDF-1.4 x"), ("B.TXT", None, b"hi")],
    )
    assert len(TNEF(blob).attachments) == 2  # the library reads what we built
    defects: list[str] = []
    unpacked = unpack_tnef(blob, _original(blob), 1, 2**20, defects)
    assert [(f.filename, f.content_type, f.content) for f in unpacked.files] == [
        ("Angebot für Müller.pdf", "application/pdf", b"%PDF-1.4 x"),
        ("B.TXT", "text/plain", b"hi"),
    ]
    assert unpacked.text == "Body text"
    assert defects == []


def test_unreadable_winmail_dat_is_kept_as_is() -> None:
    defects: list[str] = []
    unpacked = unpack_tnef(b"garbage", _original(b"garbage"), 1, 2**20, defects)
    assert [f.filename for f in unpacked.files] == ["winmail.dat"]
    assert "could not be unpacked" in defects[0]


def test_winmail_dat_with_only_rich_text_is_kept() -> None:
    blob = build_tnef(None, [], rtf=True)
    defects: list[str] = []
    unpacked = unpack_tnef(blob, _original(blob), 1, 2**20, defects)
    assert [f.filename for f in unpacked.files] == ["winmail.dat"]


def test_truncated_winmail_dat_never_raises() -> None:
    blob = build_tnef("Body", [("A.PDF", None, b"%PDF" * 100)])
    for cut in range(0, len(blob), 7):
        unpack_tnef(blob[:cut], _original(blob[:cut]), 1, 2**20, [])


def test_uuencoded_block_is_taken_out_of_the_text() -> None:
    text = "Here it is:\n" + uuencode_file("tickets.csv", UU_CONTENT).decode() + "Thanks"
    remaining, found = extract_uuencoded(text, 1, 2**20, [])
    assert remaining == "Here it is:\nThanks"
    assert [(f.filename, f.content_type, f.content) for f in found] == [
        ("tickets.csv", "text/csv", UU_CONTENT)
    ]


def test_begin_without_end_is_left_as_text() -> None:
    text = "begin 644 notes.txt\nthis is just prose that starts like uuencode"
    assert extract_uuencoded(text, 1, 2**20, []) == (text, [])


def test_attachment_over_the_limit_is_listed_but_left_out() -> None:
    text = uuencode_file("big.bin", b"x" * 1000).decode()
    _remaining, found = extract_uuencoded(text, 1, 100, [])
    assert found[0].omitted
    assert found[0].size == 1000
    assert found[0].content == b""
