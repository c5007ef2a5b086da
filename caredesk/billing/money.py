"""Money and time as people read them on a statement. Pure: no Django, no database.

Amounts are ``Decimal`` quantized to the penny with ROUND_HALF_UP (what an
accountant does by hand); time is whole minutes.
"""

from decimal import ROUND_HALF_UP, Decimal

PENNY = Decimal("0.01")


def quantize(amount: Decimal) -> Decimal:
    """``amount`` to two decimal places, halves rounded away from zero."""
    return amount.quantize(PENNY, rounding=ROUND_HALF_UP)


def price(minutes: int, hourly_rate: Decimal) -> Decimal:
    """What ``minutes`` of work cost at ``hourly_rate``, to the penny."""
    return quantize(hourly_rate * minutes / Decimal(60))


def hours(minutes: int) -> str:
    """Minutes the way the seeds write durations: ``2 h``, ``1 h 30``, ``45 min``."""
    sign = "−" if minutes < 0 else ""
    whole, rest = divmod(abs(minutes), 60)
    if whole == 0:
        return f"{sign}{rest} min"
    if rest == 0:
        return f"{sign}{whole} h"
    return f"{sign}{whole} h {rest:02d}"


def money(amount: Decimal, currency: str) -> str:
    """``1234.5`` in GBP as ``GBP 1,234.50`` (the code, not a symbol: statements cross borders)."""
    return f"{currency} {quantize(amount):,.2f}"
