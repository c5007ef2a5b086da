"""Write the corpus messages whose bytes cannot be typed by hand, and build the huge ones.

Run `python tests/mail/make_corpus.py` to (re)write the generated files in corpus/; the
output is deterministic. The huge messages (10 MB attachment, 1 000 recipients, very
deep nesting) are not committed: tests call the `*_message()` functions below.
"""

from __future__ import annotations

import base64
import binascii
import io
import struct
import wave
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"


def _headers(subject: bytes, message_id: str, extra: bytes = b"") -> bytes:
    return (
        b"From: Priya Raman <priya@stroudvets.example>\n"
        b"To: support@agency.example\n"
        b"Subject: " + subject + b"\n"
        b"Date: Fri, 4 Apr 2025 09:00:00 +0100\n"
        b"Message-ID: <" + message_id.encode() + b">\n"
        b"MIME-Version: 1.0\n" + extra
    )


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data)


# --- TNEF (winmail.dat) ---------------------------------------------------------------


def _tnef_attribute(level: int, attribute: int, kind: int, data: bytes) -> bytes:
    """One TNEF attribute: level, id and type, length, data, 16-bit byte-sum checksum."""
    header = struct.pack("<BHHI", level, attribute, kind, len(data))
    return header + data + struct.pack("<H", sum(data) & 0xFFFF)


def _mapi_unicode(prop_id: int, value: str) -> bytes:
    """A MAPI property list holding one PT_UNICODE value."""
    encoded = value.encode("utf-16-le") + b"\x00\x00"
    padded = encoded + b"\x00" * (-len(encoded) % 4)
    return struct.pack("<IHHII", 1, 0x001F, prop_id, 1, len(encoded)) + padded


def build_tnef(
    body: str | None, files: list[tuple[str, str | None, bytes]], rtf: bool = False
) -> bytes:
    """A small valid winmail.dat: message class, optional body, attachments.

    Each file is (8.3 title, long file name or None, content).
    """
    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += _tnef_attribute(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # TNEF version
    out += _tnef_attribute(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))  # OEM codepage
    out += _tnef_attribute(1, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\x00")
    if body is not None:
        out += _tnef_attribute(1, 0x800C, 0x0002, body.encode("cp1252"))
    if rtf:
        # PR_RTF_COMPRESSED as PT_BINARY: an "LZFu" blob we do not decompress.
        blob = b"LZFu" + bytes(range(32))
        props = struct.pack("<IHHII", 1, 0x0102, 0x1009, 1, len(blob)) + blob
        out += _tnef_attribute(1, 0x9003, 0x0006, props)
    for title, long_name, content in files:
        out += _tnef_attribute(2, 0x9002, 0x0006, b"\x01\x00\xff\xff\xff\xff" + b"\x00" * 8)
        out += _tnef_attribute(2, 0x8010, 0x0001, title.encode("cp1252") + b"\x00")
        out += _tnef_attribute(2, 0x800F, 0x0006, content)
        if long_name:
            out += _tnef_attribute(2, 0x9005, 0x0006, _mapi_unicode(0x3707, long_name))
    return out


def _winmail_message(subject: str, message_id: str, text: str | None, tnef: bytes) -> bytes:
    parts = []
    if text is not None:
        parts.append(
            b'--_tnef_\nContent-Type: text/plain; charset="us-ascii"\n\n' + text.encode() + b"\n"
        )
    parts.append(
        b'--_tnef_\nContent-Type: application/ms-tnef; name="winmail.dat"\n'
        b"Content-Transfer-Encoding: base64\n"
        b'Content-Disposition: attachment; filename="winmail.dat"\n\n' + _b64(tnef)
    )
    message = (
        b"From: Tom Fenwick <tom@fenwick-dental.example>\n"
        b"To: Agency Support <support@agency.example>\n"
        b"Subject: " + subject.encode() + b"\n"
        b"Date: Fri, 4 Apr 2025 10:00:00 +0100\n"
        b"Message-ID: <" + message_id.encode() + b">\n"
        b"X-Mailer: Microsoft Outlook 16.0\n"
        b"X-MS-TNEF-Correlator: 00000000A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="_tnef_"\n\n' + b"".join(parts) + b"--_tnef_--\n"
    )
    return message.replace(b"\n", b"\r\n")  # Outlook over SMTP: CRLF throughout


# --- small binary payloads --------------------------------------------------------------


def silent_wav(seconds: float = 0.1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * int(8000 * seconds))
    return buffer.getvalue()


def uuencode_file(name: str, data: bytes) -> bytes:
    """A `begin 644 name` ... `end` block, as old mailers put in plain-text bodies."""
    lines = [f"begin 644 {name}".encode()]
    for start in range(0, len(data), 45):
        lines.append(binascii.b2a_uu(data[start : start + 45]).rstrip(b"\n"))
    lines += [b"`", b"end"]
    return b"\n".join(lines) + b"\n"


UU_CONTENT = b"Ticket export\nid,subject\n1042,Card payments\n1051,Timetable\n" * 3


def _nested(depth: int, leaf: bytes) -> bytes:
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="lvl%d"\n\n--lvl%d\n' % (i, i)
        for i in range(depth)
    )
    closing = b"".join(b"\n--lvl%d--\n" % i for i in reversed(range(depth)))
    return opening + leaf + closing


# --- the generated corpus files ----------------------------------------------------------


def generated() -> dict[str, bytes]:
    """File name -> bytes for every generated corpus message."""
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    files: dict[str, bytes] = {}
    files["outlook_desktop_winmail_dat_tnef.eml"] = _winmail_message(
        "Quote for the booking system",
        "tnef-ok-1@fenwick-dental.example",
        "Please see the attached quote and spec.\n\nTom",
        build_tnef(
            "Please see the attached quote and spec.\r\n\r\nTom\r\n",
            [
                ("QUOTE~1.PDF", "Quote – booking system.pdf", pdf),
                ("SPEC.TXT", None, b"Online booking: 3 surgeries, 12 dentists.\r\n"),
            ],
        ),
    )
    files["outlook_desktop_winmail_dat_corrupt.eml"] = _winmail_message(
        "Corrupt winmail", "tnef-bad-1@fenwick-dental.example", "See attachment.", b"NOT-TNEF" * 20
    )
    files["outlook_desktop_rich_text_tnef_only.eml"] = _winmail_message(
        "Rich text only", "tnef-rtf-1@fenwick-dental.example", None, build_tnef(None, [], rtf=True)
    )
    files["voicemail_new_message_wav.eml"] = (
        b'From: "Stroud Vets Phone System" <voicemail@pbx.stroudvets.example>\n'
        b"To: support@agency.example\n"
        b"Subject: New voicemail from 01453 884100 (58 seconds)\n"
        b"Date: Fri, 4 Apr 2025 18:42:10 +0100\n"
        b"Message-ID: <vm-20250404-184210-0042@pbx.stroudvets.example>\n"
        b"X-Mailer: Asterisk Voicemail\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="----voicemail_004212345"\n\n'
        b"------voicemail_004212345\n"
        b"Content-Type: text/plain; charset=ISO-8859-1\n"
        b"Content-Transfer-Encoding: 8bit\n\n"
        b"Dear support:\n\n"
        b"You have a new voicemail from 01453 884100 in mailbox 201.\n"
        b"Duration: 0:58  Received: Friday, 4 April 2025 at 18:42\n\n"
        b"--Asterisk\n\n"
        b"------voicemail_004212345\n"
        b'Content-Type: audio/x-wav; name="msg0042.wav"\n'
        b"Content-Transfer-Encoding: base64\n"
        b"Content-Description: Voicemail sound attachment.\n"
        b'Content-Disposition: attachment; filename="msg0042.wav"\n\n'
        + _b64(silent_wav())
        + b"\n------voicemail_004212345--\n"
    )
    files["voicemail_mp3_no_filename.eml"] = (
        _headers(b"Voice message from +44 7700 900123", "vm-mp3-1@voip.carrier.example")
        + b'Content-Type: multipart/mixed; boundary="vm"\n\n'
        b"--vm\nContent-Type: text/plain; charset=utf-8\n\n"
        b"You have a new voicemail from +44 7700 900123 (0:21).\n"
        b"--vm\nContent-Type: audio/mpeg\nContent-Transfer-Encoding: base64\n\n"
        + _b64(b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 200)
        + b"--vm--\n"
    )
    files["uuencoded_attachment_in_text.eml"] = (
        _headers(
            b"Export from old system",
            "uu-1@stroudvets.example",
            b"Content-Type: text/plain; charset=us-ascii\n",
        )
        + b"\nHere is the export you asked for.\n\n"
        + uuencode_file("tickets.csv", UU_CONTENT)
        + (b"\nThanks\nPriya\n")
    )
    files["x_uuencode_transfer_encoding.eml"] = _headers(
        b"Old mailer attachment",
        "uu-2@stroudvets.example",
        b'Content-Type: multipart/mixed; boundary="u"\n',
    ) + (
        b"\n--u\nContent-Type: text/plain\n\nAttached.\n"
        b'--u\nContent-Type: text/csv; name="export.csv"\n'
        b"Content-Transfer-Encoding: x-uuencode\n"
        b'Content-Disposition: attachment; filename="export.csv"\n\n'
        + uuencode_file("export.csv", UU_CONTENT)
        + b"--u--\n"
    )
    japanese = "ウェブサイトの営業時間を更新してください。\n土曜日は10時から17時までです。\n"
    files["japanese_iso2022jp.eml"] = (
        b"From: =?ISO-2022-JP?B?" + base64.b64encode("山田 太郎".encode("iso2022_jp")) + b"?="
        b" <yamada@sakura-cafe.example>\n"
        b"To: support@agency.example\n"
        b"Subject: =?ISO-2022-JP?B?"
        + base64.b64encode("営業時間の変更".encode("iso2022_jp"))
        + b"?=\n"
        b"Date: Fri, 4 Apr 2025 11:00:00 +0900\n"
        b"Message-ID: <jp-1@sakura-cafe.example>\n"
        b"MIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=ISO-2022-JP\n"
        b"Content-Transfer-Encoding: 7bit\n\n" + japanese.encode("iso2022_jp")
    )
    russian = "Здравствуйте! На сайте не работает форма заказа.\nС уважением, Ольга\n"
    files["cyrillic_koi8r.eml"] = (
        b"From: =?koi8-r?B?" + base64.b64encode("Ольга Иванова".encode("koi8-r")) + b"?="
        b" <olga@matryoshka-shop.example>\n"
        b"To: support@agency.example\n"
        b"Subject: =?koi8-r?Q?="
        + "Форма заказа".encode("koi8-r").hex("=").upper().encode()
        + b"?=\n"
        b"Date: Fri, 4 Apr 2025 12:00:00 +0300\n"
        b"Message-ID: <koi8-1@matryoshka-shop.example>\n"
        b"MIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=koi8-r\n"
        b"Content-Transfer-Encoding: 8bit\n\n" + russian.encode("koi8-r")
    )
    smart = "We’ve updated the “Opening hours” page – the €5 parking note is gone…\n"
    files["windows1252_smart_quotes_declared_latin1.eml"] = (
        _headers(
            b"Opening hours page",
            "cp1252-1@stroudvets.example",
            b'Content-Type: text/plain; charset="iso-8859-1"\nContent-Transfer-Encoding: 8bit\n',
        )
        + b"\n"
        + smart.encode("cp1252")
    )
    files["utf8_declared_but_latin1_bytes.eml"] = (
        _headers(
            b"Menu update",
            "liar-1@stroudvets.example",
            b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n",
        )
        + b"\n"
        + "Grüße aus Köln! Bitte «Café» im Menü korrigieren.\n".encode("latin-1")
    )
    files["unknown_8bit_charset.eml"] = (
        _headers(
            b"Unknown charset",
            "unknown8bit-1@stroudvets.example",
            b"Content-Type: text/plain; charset=unknown-8bit\nContent-Transfer-Encoding: 8bit\n",
        )
        + b"\n"
        + "Naïve café owners say: déjà vu — the site is down again.\n".encode()
    )
    french = (
        "Bonjour, le formulaire de réservation ne fonctionne plus depuis la mise à jour. "
        "Les clients reçoivent un message d'erreur après avoir cliqué sur « Réserver ». "
        "Pourriez-vous vérifier rapidement ? Merci beaucoup, Hélène\n"
    )
    files["no_charset_8bit_latin1_french.eml"] = (
        _headers(
            b"Formulaire",
            "nocharset-1@gite-helene.example",
            b"Content-Type: text/plain\nContent-Transfer-Encoding: 8bit\n",
        )
        + b"\n"
        + french.encode("latin-1")
    )
    files["samsung_email_no_charset_utf8.eml"] = (
        b"From: Kieran O'Neill <kieran.oneill@harbourbakery.example>\n"
        b"To: support@agency.example\n"
        b"Subject: Price of the sourdough\n"
        b"Date: Sat, 5 Apr 2025 07:30:00 +0100\n"
        b"Message-ID: <samsung-1@harbourbakery.example>\n"
        b"MIME-Version: 1.0\n"
        b"Content-Type: text/plain\n"
        b"Content-Transfer-Encoding: 8bit\n\n"
        + "Sourdough is now £4.20 not £3.95 – please update 👍\n\n\nSent from my Galaxy\n".encode()
    )
    chinese = "你好，网站首页的图片无法显示，请帮忙检查。谢谢！\n"
    files["chinese_gb2312_base64.eml"] = (
        _headers(
            b"=?gb2312?B?" + base64.b64encode("网站图片问题".encode("gb2312")) + b"?=",
            "gb-1@teahouse.example",
            b"Content-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: base64\n",
        )
        + b"\n"
        + _b64(chinese.encode("gb2312"))
    )
    broken = base64.b64encode(b"The booking page shows a blank screen on iPads.\n")
    files["broken_base64_body.eml"] = (
        _headers(
            b"Blank page on iPad",
            "badb64-1@stroudvets.example",
            b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n",
        )
        + b"\n"
        + broken[:20]
        + b"*!\n"
        + broken[20:].rstrip(b"=")
        + b"\n"
    )
    files["nul_bytes_in_headers_and_body.eml"] = (
        b"From: Priya Raman <priya@stroudvets.example>\n"
        b"To: support@agency.example\n"
        b"Subject: NUL\x00 in the subject\n"
        b"Date: Fri, 4 Apr 2025 13:00:00 +0100\n"
        b"Message-ID: <nul-1@stroudvets.example>\n"
        b"Content-Type: text/plain; charset=utf-8\n\n"
        b"The form sends\x00 strange characters.\n"
    )
    long_subject = b"Long subject " + b"word " * 600
    references = b" ".join(b"<ref-%d@thread.example>" % i for i in range(150))
    files["very_long_unfolded_header_line.eml"] = (
        _headers(
            long_subject.strip(), "long-1@stroudvets.example", b"References: " + references + b"\n"
        )
        + b"\nBody of a message with a very long subject.\n"
    )
    files["nested_multipart_12_deep.eml"] = _headers(
        b"Deeply nested", "deep12-1@stroudvets.example"
    ) + _nested(12, b"Content-Type: text/plain\n\nFound me at the bottom.\n")
    files["mixed_crlf_and_lf_line_endings.eml"] = (
        b"From: Owen Price <owen@pricejoinery.example>\r\n"
        b"To: support@agency.example\n"
        b"Subject: Mixed line endings\r\n"
        b"Date: Sat, 5 Apr 2025 08:00:00 +0100\n"
        b"Message-ID: <mixed-eol-1@pricejoinery.example>\r\n"
        b"\r\n"
        b"First line with CRLF.\r\nSecond line with LF.\nThird.\r\n"
    )
    inner = (
        b"From: Hosting Alerts <alerts@fasthost.example>\r\n"
        b"To: tom@fenwick-dental.example\r\n"
        b"Subject: Disk space at 95%\r\n"
        b"Message-ID: <disk-95@fasthost.example>\r\n\r\n"
        b"Your hosting account is at 95% of its disk quota.\r\n"
    )
    files["base64_encoded_message_rfc822.eml"] = (
        b"From: Tom Fenwick <tom@fenwick-dental.example>\n"
        b"To: support@agency.example\n"
        b"Subject: FW: Disk space at 95%\n"
        b"Date: Sat, 5 Apr 2025 09:00:00 +0100\n"
        b"Message-ID: <fw-b64-1@fenwick-dental.example>\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="m"\n\n'
        b"--m\nContent-Type: text/plain\n\nCan you look at this?\n"
        b"--m\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n"
        b'Content-Disposition: attachment; filename="Disk space at 95%.eml"\n\n'
        + _b64(inner)
        + b"--m--\n"
    )
    files["latin1_8bit_header_bytes.eml"] = (
        b"From: J\xfcrgen Br\xe4uer <j.braeuer@moebelhaus-braeuer.example>\n"
        b"To: support@agency.example\n"
        b"Subject: \xc4nderung der \xd6ffnungszeiten\n"
        b"Date: Sat, 5 Apr 2025 10:00:00 +0200\n"
        b"Message-ID: <latin1-headers-1@moebelhaus-braeuer.example>\n"
        b"Content-Type: text/plain; charset=iso-8859-1\n\n"
        b"Neue \xd6ffnungszeiten ab Mai.\n"
    )
    return files


# --- huge messages, built at test time ----------------------------------------------------


def big_attachment_message(size: int = 10 * 2**20) -> bytes:
    """A message with one attachment of `size` bytes (deterministic content)."""
    chunk = bytes(range(256)) * 4096  # 1 MiB
    data = (chunk * (size // len(chunk) + 1))[:size]
    return _headers(
        b"Full site backup",
        "big-1@stroudvets.example",
        b'Content-Type: multipart/mixed; boundary="big"\n',
    ) + (
        b"\n--big\nContent-Type: text/plain\n\nThe backup archive is attached.\n"
        b'--big\nContent-Type: application/zip; name="backup.zip"\n'
        b"Content-Transfer-Encoding: base64\n"
        b'Content-Disposition: attachment; filename="backup.zip"\n\n'
        + _b64(data).replace(b"\n", b"\r\n")
        + b"--big--\n"
    )


def many_recipients_message(count: int = 1000) -> bytes:
    """A message with `count` To and `count` Cc recipients."""
    to = b",\n ".join(b'"Client %d" <client%d@customers.example>' % (i, i) for i in range(count))
    cc = b",\n ".join(b"staff%d@agency.example" % i for i in range(count))
    return (
        b"From: Newsletter Sender <owner@pricejoinery.example>\n"
        b"To: " + to + b"\n"
        b"Cc: " + cc + b"\n"
        b"Subject: Everyone\n"
        b"Date: Sat, 5 Apr 2025 11:00:00 +0100\n"
        b"Message-ID: <many-1@pricejoinery.example>\n\n"
        b"Hello everybody.\n"
    )


def deep_message(depth: int) -> bytes:
    """A text part at the bottom of `depth` nested multiparts."""
    return _headers(b"Deep", f"deep{depth}@stroudvets.example") + _nested(
        depth, b"Content-Type: text/plain\n\nBottom text.\n"
    )


def main() -> None:
    for name, data in generated().items():
        (CORPUS / name).write_bytes(data)
        print(f"wrote {name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
