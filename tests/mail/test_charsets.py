"""Bytes of declared, undeclared and lying charsets become the text that was meant."""

from __future__ import annotations

import pytest

from caredesk.mail.charsets import clean_text, decode_bytes, lookup_codec, repair_surrogates


def _decode(data: bytes, label: str | None) -> tuple[str, list[str]]:
    defects: list[str] = []
    return decode_bytes(data, label, defects, "body"), defects


def test_declared_charset_is_used() -> None:
    assert _decode("Здравствуйте".encode("koi8-r"), "koi8-r") == ("Здравствуйте", [])


def test_latin1_label_reads_windows_1252_smart_quotes() -> None:
    text, defects = _decode("“quoted” – €5".encode("cp1252"), "iso-8859-1")
    assert text == "“quoted” – €5"
    assert defects == []


def test_utf8_bytes_under_a_latin1_label_are_read_as_utf8() -> None:
    text, defects = _decode("Grüße".encode(), "iso-8859-1")
    assert text == "Grüße"
    assert defects


def test_declared_utf8_with_latin1_bytes_is_repaired() -> None:
    text, defects = _decode("Grüße aus Köln".encode("latin-1"), "utf-8")
    assert text == "Grüße aus Köln"
    assert "declared utf-8 but not valid" in defects[0]


def test_mostly_utf8_with_one_stray_byte_keeps_the_utf8() -> None:
    text, _ = _decode("Café ".encode() + b"\xe9t\xe9", "utf-8")
    assert text == "Café été"


@pytest.mark.parametrize(
    "label", [None, "unknown-8bit", "x-unknown", "no-such-charset", "zlib", "undefined"]
)
def test_unusable_labels_fall_back_to_a_guess(label: str | None) -> None:
    text, defects = _decode("déjà vu".encode(), label)
    assert text == "déjà vu"
    assert defects


def test_undeclared_western_text_is_read_as_windows_1252() -> None:
    text, _ = _decode("Réservation à l'hôtel, Hélène".encode("latin-1"), None)
    assert text == "Réservation à l'hôtel, Hélène"


def test_undeclared_cyrillic_is_guessed() -> None:
    russian = "Здравствуйте! На сайте не работает форма заказа. Пожалуйста, проверьте её."
    text, _ = _decode(russian.encode("cp1251"), None)
    assert text == russian


def test_seven_bit_iso_2022_jp_is_not_mistaken_for_ascii() -> None:
    assert _decode("営業時間".encode("iso2022_jp"), "ISO-2022-JP")[0] == "営業時間"


def test_ascii_needs_no_repair() -> None:
    assert _decode(b"plain", "us-ascii") == ("plain", [])


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("UTF-8", "utf-8"),
        ('"utf-8"', "utf-8"),
        ("utf8", "utf-8"),
        ("us-ascii", "cp1252"),
        ("ks_c_5601-1987", "cp949"),
        ("gb2312", "gb18030"),
        ("x-mac-roman", "mac-roman"),
        ("shift_jis", "cp932"),
        ("base64", None),
        ("unicode_escape", None),
        ("", None),
    ],
)
def test_charset_labels_map_to_safe_codecs(label: str, codec: str | None) -> None:
    assert lookup_codec(label) == codec


def test_surrogate_escaped_header_bytes_are_repaired() -> None:
    defects: list[str] = []
    raw = "Jürgen".encode().decode("ascii", errors="surrogateescape")
    assert repair_surrogates(raw, defects, "From") == "Jürgen"
    raw = "Jürgen".encode("latin-1").decode("ascii", errors="surrogateescape")
    assert repair_surrogates(raw, defects, "From") == "Jürgen"
    assert defects == ["From: raw 8-bit bytes", "From: raw 8-bit bytes"]


def test_clean_text_drops_nul_controls_and_lone_surrogates() -> None:
    assert clean_text("a\x00b\x07c\ud800d\te\nf") == "abcd\te\nf"
