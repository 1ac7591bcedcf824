"""Numbers for people, in one place: money, percentages, prices and their units (Babel).

The locale is a setting (JOURNEYFOLIO_LOCALE, `en` by default); the currency is always the
portfolio's. Money in text is compact (`€8.89M`, `€881K`, `€950`); a figure is rounded to a
`step` (a power of ten, at least one unit of money), by default the one that keeps three
significant digits.

Figures that a page relates to each other (a value, a baseline, their difference) share one
step, from `step_for`, and a difference shown is the difference of the figures shown, so
what the screen says adds up at the precision it shows (frames.py builds such groups).
"""

import math
import os
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    format_compact_currency,
    format_currency,
    format_decimal,
    format_percent,
    get_plus_sign_symbol,
)

LOCALE_ENV: Final = "JOURNEYFOLIO_LOCALE"
DEFAULT_LOCALE: Final = "en"
MISSING: Final = "–"
"""What a missing figure (no floor, no cap, no run) reads as, in text and in tables."""
SIGNIFICANT: Final = 3
"""Significant digits of a figure shown on its own."""
MOST_SIGNIFICANT: Final = 5
"""Most significant digits the largest figure of a group gets (so that a tiny difference
does not print a large figure to the cent)."""
ONE: Final = Decimal(1)


def app_locale() -> Locale:
    """The locale of the app's numbers (JOURNEYFOLIO_LOCALE; `en` when unset or unknown)."""
    wanted = os.environ.get(LOCALE_ENV, "").strip() or DEFAULT_LOCALE
    try:
        return Locale.parse(wanted.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


def missing(value: float | Decimal | None) -> bool:
    return value is None or (isinstance(value, float | Decimal) and math.isnan(value))


# =========================================================================== rounding


def _power(value: float | Decimal) -> int:
    """The exponent of the leading digit: 865_077 -> 5."""
    return Decimal(str(abs(value))).adjusted()


def step_for(
    *amounts: float | Decimal | None,
    digits: int = SIGNIFICANT,
    most: int = MOST_SIGNIFICANT,
) -> Decimal:
    """The step (a power of ten, at least 1) that shows the smallest nonzero of `amounts`
    with `digits` significant digits, yet the largest with no more than `most`.

    >>> step_for(8_892_789, 865_077)
    Decimal('1E+3')
    """
    sizes = [Decimal(str(abs(a))) for a in amounts if a is not None and not missing(a)]
    sizes = [size for size in sizes if round(size) > 0]
    if not sizes:
        return ONE
    smallest = _power(min(sizes)) - digits + 1
    floor = _power(max(sizes)) - most + 1
    return Decimal(1).scaleb(max(smallest, floor, 0))


def rounded(amount: float | Decimal, step: Decimal | None = None) -> Decimal:
    """`amount` to a multiple of `step` (half away from zero; no negative zero)."""
    exact = Decimal(str(amount))
    step = step_for(amount) if step is None else step
    result = (exact / step).quantize(ONE, rounding=ROUND_HALF_UP) * step
    return result + 0 if result else Decimal(0)


# =========================================================================== text


def _compacts(value: Decimal, locale: Locale) -> bool:
    """Whether the locale has a compact form for amounts of this size (`en`: from 1,000)."""
    patterns = locale.compact_currency_formats["short"]["other"]
    fitting = [int(m) for m in patterns if int(m) <= abs(value)]
    return bool(fitting) and patterns[str(max(fitting))].pattern != "0"


def money(
    amount: float | Decimal | None,
    currency: str,
    *,
    signed: bool = False,
    step: Decimal | None = None,
) -> str:
    """Compact money: `€8.89M`, `€881K`, `€950` in `en`; `+` before gains when signed."""
    if missing(amount):
        return MISSING
    assert amount is not None
    value = rounded(amount, step)
    # The value is a multiple of its step: enough fraction digits show it exactly, and the
    # compact pattern leaves trailing zeros out.
    locale = app_locale()
    if _compacts(value, locale):
        text = format_compact_currency(value, currency, locale=locale, fraction_digits=12)
    else:
        # Some locales (de) do not shorten thousands: then whole units with separators.
        whole = locale.currency_formats["standard"].pattern.split(";")[0].replace(".00", "")
        text = format_currency(value, currency, whole, locale=locale, currency_digits=False)
    if signed and value > 0:
        return get_plus_sign_symbol(locale) + text
    return text


def number(value: float | Decimal | None, decimals: int = 2, *, signed: bool = False) -> str:
    """A plain number with the locale's separators: `1,234.57`."""
    if missing(value):
        return MISSING
    assert value is not None
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    if signed:
        pattern = f"+{pattern};-{pattern}"
    shown = rounded(value, Decimal(1).scaleb(-decimals))
    return format_decimal(shown, format=pattern, locale=app_locale())


def percent_decimals(ratio: float | Decimal) -> int:
    """The precision that matters: 142 %, 14.2 %, 0.35 %."""
    size = abs(float(ratio))
    if size >= 1:
        return 0
    if size >= 0.01 or size == 0:
        return 1
    return 2


def percent_rounded(ratio: float | Decimal, decimals: int | None = None) -> Decimal:
    """The ratio as `percent` shows it (0.08956 -> 0.090)."""
    decimals = percent_decimals(ratio) if decimals is None else decimals
    return rounded(ratio, Decimal(1).scaleb(-decimals - 2))


def percent(
    ratio: float | Decimal | None, *, signed: bool = False, decimals: int | None = None
) -> str:
    """A ratio as percent in the locale's pattern: 0.142 -> `14.2%` (`en`)."""
    if missing(ratio):
        return MISSING
    assert ratio is not None
    decimals = percent_decimals(ratio) if decimals is None else decimals
    locale = app_locale()
    base = locale.percent_formats[None].pattern.split(";")[0]
    pattern = base.replace("#,##0", "#,##0" + ("." + "0" * decimals if decimals else ""), 1)
    if signed:
        pattern = f"+{pattern};-{pattern}"
    return format_percent(percent_rounded(ratio, decimals), format=pattern, locale=locale)


def price(value: float | Decimal | None, unit: str, decimals: int = 2) -> str:
    """A shadow price or marginal value with what it is worth: `1.05 EUR of
    priority-weighted value per extra EUR`."""
    return f"{number(value, decimals)} {unit}"
