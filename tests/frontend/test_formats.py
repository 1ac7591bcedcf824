"""Numbers for people (frontend/formats.py): Babel's compact money in the app's locale,
rounding steps that make shown differences add up, percentages, prices with units."""

import math
from decimal import Decimal
from typing import Any

import pytest

from frontend import formats


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(formats.LOCALE_ENV, raising=False)


@pytest.mark.parametrize(
    ("value", "signed", "text"),
    [
        (8_893_221.7, False, "€8.89M"),
        (881_819.6, False, "€882K"),
        (999_600, False, "€1M"),
        (1_390_000_000, False, "€1.39B"),
        (12_345, True, "+€12.3K"),
        (-216_790.2, True, "-€217K"),
        (950.4, False, "€950"),
        (-0.3, True, "€0"),
        (None, False, "–"),
        (math.nan, False, "–"),
    ],
)
def test_money_is_compact_and_signed_on_request(value: Any, signed: bool, text: str) -> None:
    assert formats.money(value, "EUR", signed=signed) == text


def test_a_step_shows_every_figure_of_a_group_alike() -> None:
    # Sonnenreisen's value, silo value and their difference: the difference gets three
    # significant digits, so the figures get the same step (1,000).
    step = formats.step_for(8_892_788.95, 8_027_712.10, 865_076.85)
    assert step == Decimal(1000)
    assert formats.money(8_892_788.95, "EUR", step=step) == "€8.893M"
    assert formats.money(8_027_712.10, "EUR", step=step) == "€8.028M"
    # ... but a tiny difference does not print a large figure to the unit.
    assert formats.step_for(1_800_000, 3) == Decimal(100)
    assert formats.step_for(0.0, None) == Decimal(1)


def test_rounding_is_half_away_from_zero_without_negative_zero() -> None:
    assert formats.rounded(2_500, Decimal(1000)) == 3_000
    assert formats.rounded(-2_500, Decimal(1000)) == -3_000
    assert str(formats.rounded(-0.4, Decimal(1))) == "0"


def test_other_locales_use_their_own_words_and_separators(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(formats.LOCALE_ENV, "de")
    assert formats.money(8_893_221.7, "EUR") == "8,89\xa0Mio.\xa0€"
    # German has no short form for thousands: whole euros with separators instead.
    assert formats.money(881_819.6, "EUR") == "882.000\xa0€"
    assert formats.percent(0.142) == "14,2\xa0%"
    monkeypatch.setenv(formats.LOCALE_ENV, "xx")
    assert formats.money(8_893_221.7, "EUR") == "€8.89M"


@pytest.mark.parametrize(
    ("ratio", "signed", "text"),
    [
        (0.0896, True, "+9.0%"),
        (0.142, False, "14.2%"),
        (-0.0035, True, "-0.35%"),
        (1.42, False, "142%"),
        (None, False, "–"),
    ],
)
def test_percent_with_the_precision_that_matters(ratio: Any, signed: bool, text: str) -> None:
    assert formats.percent(ratio, signed=signed) == text


def test_prices_carry_their_unit() -> None:
    unit = "EUR of priority-weighted value per extra EUR"
    assert formats.price(1.0514, unit) == f"1.05 {unit}"
    assert formats.number(72_931.219) == "72,931.22"
    assert formats.number(None) == "–"
