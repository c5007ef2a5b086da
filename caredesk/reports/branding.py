"""The agency's look on its reports: name, logo, colour and footer, from settings.

Each has a sane default, so a fresh install sends a tidy report; a bad value
(a colour that is not a hex code, a logo file that is missing) falls back to
the default rather than breaking the monthly run.
"""

import base64
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

DEFAULT_COLOUR = "#1d4f91"
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_CID = "logo"
LOGO_TYPES = ("image/png", "image/jpeg", "image/gif")


@dataclass(frozen=True)
class Brand:
    name: str
    colour: str
    footer: str
    logo: bytes | None
    logo_type: str

    @property
    def logo_filename(self) -> str:
        return "logo" + (mimetypes.guess_extension(self.logo_type) or ".png")

    @property
    def logo_data_uri(self) -> str:
        if not self.logo:
            return ""
        return f"data:{self.logo_type};base64,{base64.b64encode(self.logo).decode('ascii')}"


def _logo() -> tuple[bytes | None, str]:
    path = getattr(settings, "CAREDESK_REPORT_LOGO", "") or ""
    if not path:
        return None, ""
    kind = mimetypes.guess_type(path)[0] or ""
    if kind not in LOGO_TYPES:
        return None, ""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None, ""
    return data, kind


def brand() -> Brand:
    name = settings.CAREDESK_AGENCY_NAME
    colour = getattr(settings, "CAREDESK_REPORT_COLOUR", "") or DEFAULT_COLOUR
    if not _HEX.match(colour):
        colour = DEFAULT_COLOUR
    footer = getattr(settings, "CAREDESK_REPORT_FOOTER", "") or (
        f"{name} · Questions about this report? Reply to this email."
    )
    logo, logo_type = _logo()
    return Brand(name=name, colour=colour, footer=footer, logo=logo, logo_type=logo_type)
