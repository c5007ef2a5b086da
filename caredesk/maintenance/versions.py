"""PHP's ``version_compare``, which is how WordPress and its vulnerability feeds order versions.

Not semantic versioning: ``1.2`` is older than ``1.2.0``, ``1.0-dev`` is older
than ``1.0alpha``, which is older than ``1.0beta``, ``1.0RC1``, ``1.0`` and
``1.0pl1``; ``1.0.0.1`` is newer than ``1.0``. The steps, as PHP does them:

1. canonicalise: ``-``, ``_``, ``+`` and any other non-alphanumeric character
   become ``.``; a ``.`` goes between a digit and a letter and back
   (``1.0rc1`` → ``1.0.rc.1``); runs of dots collapse;
2. compare the dot-separated parts left to right: two numbers as numbers,
   two words by their special-form rank (``dev`` < ``alpha``/``a`` <
   ``beta``/``b`` < ``RC``/``rc`` < *a number* < ``pl``/``p``; any other word
   ranks below ``dev``), a number against a word by the same ranks;
3. when one side runs out, a remaining number makes that side newer, a
   remaining word is ranked against a number.

Pure standard library, no Django: the scan and the update planner share it.
"""

from __future__ import annotations

from typing import Literal

Operator = Literal["<", "lt", "<=", "le", ">", "gt", ">=", "ge", "==", "eq", "!=", "<>", "ne"]

# Prefix-matched in this order, as PHP does with strncmp (so "beta1" never reaches here
# whole: canonicalising splits it first, but "alphabet" ranks as "alpha").
_SPECIAL_FORMS: tuple[tuple[str, int], ...] = (
    ("dev", 0),
    ("alpha", 1),
    ("a", 1),
    ("beta", 2),
    ("b", 2),
    ("RC", 3),
    ("rc", 3),
    ("#", 4),
    ("pl", 5),
    ("p", 5),
)
_NUMBER = "#N#"  # how PHP stands a number in when it ranks it against a word


def canonicalize(version: str) -> str:
    """``version`` with parts split by single dots, as PHP's ``php_canonicalize_version``."""
    if not version:
        return version
    out = [version[0]]
    previous = version[0]
    for char in version[1:]:
        if char in "-_+":
            if out[-1] != ".":
                out.append(".")
        elif (_is_letter_like(previous) and _is_digit(char)) or (
            _is_digit(previous) and _is_letter_like(char)
        ):
            if out[-1] != ".":
                out.append(".")
            out.append(char)
        elif not char.isascii() or not char.isalnum():
            if out[-1] != ".":
                out.append(".")
        else:
            out.append(char)
        previous = char
    return "".join(out)


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def _is_letter_like(char: str) -> bool:
    # PHP's isndig: anything that is neither a digit nor a dot.
    return not _is_digit(char) and char != "."


def _special_rank(form: str) -> int:
    for name, rank in _SPECIAL_FORMS:
        if form.startswith(name):
            return rank
    return -1


def _compare_forms(a: str, b: str) -> int:
    return _sign(_special_rank(a) - _special_rank(b))


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


def _leading_int(part: str) -> int:
    digits = ""
    for char in part:
        if not _is_digit(char):
            break
        digits += char
    return int(digits or "0")


def _starts_with_digit(part: str) -> bool:
    return bool(part) and _is_digit(part[0])


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` is older than, the same as, or newer than ``b``."""
    if not a or not b:
        if not a and not b:
            return 0
        return 1 if a else -1
    parts_a = (a if a.startswith("#") else canonicalize(a)).split(".")
    parts_b = (b if b.startswith("#") else canonicalize(b)).split(".")
    result = 0
    i = 0
    while i < len(parts_a) and i < len(parts_b):
        p1, p2 = parts_a[i], parts_b[i]
        if _starts_with_digit(p1) and _starts_with_digit(p2):
            result = _sign(_leading_int(p1) - _leading_int(p2))
        elif not _starts_with_digit(p1) and not _starts_with_digit(p2):
            result = _compare_forms(p1, p2)
        elif _starts_with_digit(p1):
            result = _compare_forms(_NUMBER, p2)
        else:
            result = _compare_forms(p1, _NUMBER)
        if result != 0:
            return result
        i += 1
    if i < len(parts_a):
        rest = parts_a[i]
        return 1 if _starts_with_digit(rest) else compare(".".join(parts_a[i:]), _NUMBER)
    if i < len(parts_b):
        rest = parts_b[i]
        return -1 if _starts_with_digit(rest) else compare(_NUMBER, ".".join(parts_b[i:]))
    return 0


def version_compare(a: str, b: str, operator: Operator) -> bool:
    """PHP's three-argument ``version_compare($a, $b, $operator)``."""
    result = compare(a, b)
    if operator in ("<", "lt"):
        return result < 0
    if operator in ("<=", "le"):
        return result <= 0
    if operator in (">", "gt"):
        return result > 0
    if operator in (">=", "ge"):
        return result >= 0
    if operator in ("==", "eq"):
        return result == 0
    if operator in ("!=", "<>", "ne"):
        return result != 0
    raise ValueError(f"unknown operator {operator!r}")


def in_range(
    version: str,
    *,
    low: str | None,
    low_inclusive: bool,
    high: str | None,
    high_inclusive: bool,
) -> bool:
    """Whether ``version`` lies in a range; ``None`` or ``"*"`` leaves that end open."""
    if low not in (None, "*"):
        above = compare(version, low)
        if above < 0 or (above == 0 and not low_inclusive):
            return False
    if high not in (None, "*"):
        below = compare(version, high)
        if below > 0 or (below == 0 and not high_inclusive):
            return False
    return True
