"""The stored reply keeps what the client wrote and drops quoted history and signatures."""

from __future__ import annotations

import time

import pytest

from caredesk.mail.reply import is_forward, strip_reply

GMAIL = """Yes, go ahead with the update tonight.

On Tue, 4 Mar 2025 at 14:02, Agency Support <support@agency.example> wrote:

> Hi Dan,
> Shall we update WooCommerce tonight?
> Mark
"""

GMAIL_WRAPPED = """Yes, go ahead.

On Tue, 4 Mar 2025 at 14:02, Agency Support - Care Plans Team <
support@agency.example> wrote:

> Shall we update?
"""

OUTLOOK = """Yes please.

Sarah Whitfield
Operations Manager

From: Agency Support <support@agency.example>
Sent: 04 March 2025 10:15
To: Sarah Whitfield <sarah@harbourbakery.example>
Subject: RE: [#1042] Plugin update

Shall we update the plugin?
"""

OUTLOOK_OLD = """Fine by me.

-----Original Message-----
From: Agency Support [mailto:support@agency.example]
Sent: 03 March 2025 16:10
To: Tom Fenwick
Subject: Update

Shall we?
"""

OUTLOOK_MOBILE = """Paid.

Get Outlook for iOS<https://aka.ms/o0ukef>
________________________________
From: Agency Support <support@agency.example>
Sent: Friday, March 28, 2025 5:00:00 PM
Subject: Invoice

Invoice attached.
"""

APPLE = """Looks great.

Sent from my iPhone

> On 27 Mar 2025, at 16:40, Agency Support <support@agency.example> wrote:
>
> The banner is live.
"""

GERMAN = """Passt, danke!

Am 31.03.2025 um 17:45 schrieb Agency Support <support@agency.example>:
> Wir haben das Formular repariert.
"""

FRENCH = """C'est bon, merci.

Le mar. 4 mars 2025 à 14:02, Agency Support <support@agency.example> a écrit :
> Le formulaire est réparé.
"""

# The signature separator is "-- " with its trailing space (RFC 3676).
DASH_DASH = "The window on Saturday works.\n\n-- \nNadia Petrova\nDevShop Ltd\n"


@pytest.mark.parametrize(
    ("text", "kept", "dropped"),
    [
        (GMAIL, "go ahead with the update tonight.", "Shall we update"),
        (GMAIL_WRAPPED, "Yes, go ahead.", "Shall we update"),
        (OUTLOOK, "Yes please.", "Shall we update the plugin"),
        (OUTLOOK_OLD, "Fine by me.", "Original Message"),
        (OUTLOOK_MOBILE, "Paid.", "Invoice attached"),
        (APPLE, "Looks great.", "Sent from my iPhone"),
        (GERMAN, "Passt, danke!", "repariert"),
        (FRENCH, "C'est bon, merci.", "réparé"),
        (DASH_DASH, "The window on Saturday works.", "DevShop"),
    ],
    ids=[
        "gmail",
        "gmail-wrapped",
        "outlook",
        "outlook-old",
        "outlook-mobile",
        "apple",
        "de",
        "fr",
        "sig",
    ],
)
def test_quoted_history_and_signature_are_dropped(text: str, kept: str, dropped: str) -> None:
    reply = strip_reply(text)
    assert kept in reply
    assert dropped not in reply
    assert "wrote:" not in reply


def test_signature_after_sign_off_is_dropped() -> None:
    assert strip_reply("The form works now.\n\nBest regards,\nJane Doe\nHarbour Bakery") == (
        "The form works now."
    )


def test_sentence_starting_with_thanks_is_not_taken_for_a_signature() -> None:
    text = "Hi,\nThanks, that fixed the checkout. One more thing: the footer is wrong.\nJane"
    assert strip_reply(text) == text


def test_warning_sentence_is_not_taken_for_a_disclaimer() -> None:
    text = "Hello,\nWarning: the contact form mail never arrives since Monday.\nJane"
    assert "contact form mail never arrives" in strip_reply(text)


def test_hyphen_lists_are_not_taken_for_a_signature() -> None:
    text = "Please change:\n- the phone number\n- the opening hours\n\nThanks"
    assert "- the opening hours" in strip_reply(text)


def test_lines_that_only_look_like_foreign_headers_survive() -> None:
    text = "Take a look at /wp-admin/plugins.php please.\nData: all of it\nDo: nothing yet"
    assert strip_reply(text) == text


def test_message_that_is_only_quoted_history_falls_back_to_the_text() -> None:
    text = "On Tue, 4 Mar 2025 at 14:02, Support <support@agency.example> wrote:\n> old"
    assert strip_reply(text) == text


def test_inline_answers_below_the_quote_header_are_kept() -> None:
    text = "On Mon, Support wrote:\n> Which PHP version?\n\n8.3\n\n> SSH?\n\nYes"
    assert strip_reply(text) == text


def test_forwarded_message_keeps_what_was_forwarded() -> None:
    text = (
        "FYI\n\n---------- Forwarded message ---------\nFrom: WordPress <wp@site.example>\n"
        "Date: Wed, 5 Mar 2025\nSubject: Fatal error\nTo: <me@site.example>\n\nError details here"
    )
    assert is_forward("Fwd: Fatal error", text)
    assert strip_reply(text, "Fwd: Fatal error") == text
    assert not is_forward("Re: Fatal error", text)


def test_empty_text_stays_empty() -> None:
    assert strip_reply("") == ""
    assert strip_reply(" \n\n ") == ""


def test_long_lines_cannot_stall_the_stripper() -> None:
    # The library's header patterns backtrack badly on long "On ..." lines.
    text = "Hello\n" + ("On " + "a " * 20_000 + "\n") * 3 + "On Tue, X wrote:\n> old"
    started = time.perf_counter()
    reply = strip_reply(text)
    assert time.perf_counter() - started < 2
    assert reply.startswith("Hello\nOn a a a")


def test_huge_text_without_history_is_kept_whole() -> None:
    text = "Log excerpt:\n" + "line of log output with some words in it\n" * 20_000
    assert strip_reply(text) == text.strip()
