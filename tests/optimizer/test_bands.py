"""The quality band of a curve from its evidence's uncertainty (optimizer/bands.py): it holds
the curve, its width is what the covariance says (worked out for a parameter that enters
linearly), it shrinks with the covariance, and given draws or bands are used as they are."""

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from optimizer.bands import BandError, curve_band, spend_grid
from optimizer.curves import evaluate
from optimizer.document import Curve
from optimizer.fit import fit, observations
from optimizer.problem import problem_curve

GRID = spend_grid(200_000)
Z90 = 1.6448536269514722
"""The standard normal's 95 % quantile: a 90 % band is +-Z90 standard deviations."""


def with_covariance(body: dict[str, Any], names: list[str], cov: list[list[float]]) -> Curve:
    return Curve.model_validate(
        {**body, "source": {"kind": "fit", "uncertainty": {"parameters": names, "covariance": cov}}}
    )


SATURATING = {"saturating": {"base": 0.3, "max": 0.8, "half_spend": 50_000}}


def test_a_curve_without_uncertainty_is_its_own_band() -> None:
    band = curve_band(Curve.model_validate(SATURATING), GRID)
    assert band.kind == "none"
    assert band.draws == 0
    assert band.low == band.curve == band.high
    assert band.curve[0] == pytest.approx(0.3)
    assert band.curve[-1] == pytest.approx(0.3 + 0.5 * 200_000 / 250_000)


def test_the_width_is_what_the_covariance_says_for_a_linear_parameter() -> None:
    # Only base is uncertain (sd s): q(x) = base (1 - f(x)) + max f(x) is linear in base,
    # so the 90 % band is q(x) -+ Z90 s (1 - f(x)), f(x) = x / (x + 50,000). At x = 0 the
    # half width is 1.645 * 0.02 = 0.0329, at 200,000 it is 0.0329 * 0.2 = 0.00658.
    s = 0.02
    band = curve_band(with_covariance(SATURATING, ["base"], [[s * s]]), GRID, seed=3)
    assert band.kind == "covariance"
    assert band.draws == 4_000
    for x, fitted, low, high in zip(band.spend, band.curve, band.low, band.high, strict=True):
        expected = Z90 * s * (1 - x / (x + 50_000))
        # 4,000 draws: a 5 % quantile is within about 3 % of the exact one
        assert (high - low) / 2 == pytest.approx(expected, rel=0.04)
        assert (high + low) / 2 == pytest.approx(fitted, abs=0.1 * expected)


def test_the_band_narrows_with_the_covariance_and_closes_without_it() -> None:
    names = ["base", "max", "log_half_spend"]
    cov = np.array([[4e-4, 1e-4, 5e-4], [1e-4, 9e-4, 2e-3], [5e-4, 2e-3, 0.04]])
    wide = curve_band(with_covariance(SATURATING, names, cov.tolist()), GRID)
    narrow = curve_band(with_covariance(SATURATING, names, (cov / 4).tolist()), GRID)
    none = curve_band(with_covariance(SATURATING, names, (cov * 0).tolist()), GRID)
    ratio = np.array(narrow.width[1:]) / np.array(wide.width[1:])
    # a quarter of the variance is half the standard deviation: about half the width
    assert np.all((ratio > 0.4) & (ratio < 0.6)), ratio
    assert max(none.width) == 0.0


def test_the_same_seed_gives_the_same_band_and_another_seed_nearly_the_same() -> None:
    names = ["base", "max", "log_half_spend"]
    cov = [[4e-4, 0, 0], [0, 9e-4, 0], [0, 0, 0.04]]
    curve = with_covariance(SATURATING, names, cov)
    first, again = curve_band(curve, GRID, seed=7), curve_band(curve, GRID, seed=7)
    other = curve_band(curve, GRID, seed=8)
    assert first == again
    assert np.allclose(first.high, other.high, atol=0.1 * max(first.width))


def test_given_draws_are_used_as_they_are() -> None:
    # two draws of half_spend, 25,000 and 100,000: every quantile lies between their curves
    curve = Curve.model_validate(
        {
            **SATURATING,
            "source": {
                "kind": "pymc-marketing",
                "uncertainty": {
                    "parameters": ["log_half_spend"],
                    "draws": [[math.log(25_000)], [math.log(100_000)]],
                },
            },
        }
    )
    band = curve_band(curve, [0.0, 50_000.0], level=0.98)
    assert band.kind == "draws"
    assert band.draws == 2
    at = 50_000.0
    steep, flat = 0.3 + 0.5 * at / (at + 25_000), 0.3 + 0.5 * at / (at + 100_000)
    assert band.low[1] == pytest.approx(flat + 0.01 * (steep - flat))
    assert band.high[1] == pytest.approx(steep - 0.01 * (steep - flat))
    assert band.low[0] == band.high[0] == pytest.approx(0.3)


def test_a_points_curve_band_is_interpolated() -> None:
    curve = Curve.model_validate(
        {
            "points": [[0, 0.1], [100_000, 0.5], [200_000, 0.6]],
            "source": {
                "kind": "meridian",
                "uncertainty": {"band": [[0, 0.05, 0.15], [200_000, 0.5, 0.7]]},
            },
        }
    )
    band = curve_band(curve, [0.0, 100_000.0, 200_000.0])
    assert band.kind == "band"
    assert band.curve == pytest.approx([0.1, 0.5, 0.6])
    assert band.low == pytest.approx([0.05, 0.275, 0.5])
    assert band.high == pytest.approx([0.15, 0.5, 0.7])  # widened to hold the curve at 100,000


def test_uncertainty_of_a_parameter_the_curve_lacks_is_refused() -> None:
    # the document refuses it before any band is drawn
    with pytest.raises(ValidationError, match="'log_scale' is not a parameter of a saturating"):
        with_covariance(SATURATING, ["base", "log_scale"], [[1e-4, 0], [0, 1e-2]])
    with pytest.raises(BandError, match="level must be in"):
        curve_band(Curve.model_validate(SATURATING), GRID, level=1.0)
    with pytest.raises(BandError, match="positive largest spend"):
        spend_grid(0.0)


FORMS = {
    "saturating": ("half_spend", 1_000.0, 500_000.0),
    "hill": ("half_spend", 1_000.0, 500_000.0),
    "exponential": ("scale", 1_000.0, 500_000.0),
    "logistic": ("lam", 1e-6, 1e-3),
}


@st.composite
def uncertain_curves(draw: st.DrawFn) -> Curve:
    form = draw(st.sampled_from(sorted(FORMS)))
    rate_name, lo, hi = FORMS[form]
    base = draw(st.floats(0.0, 0.6))
    top = draw(st.floats(base, 1.0))
    body: dict[str, float] = {"base": base, "max": top, rate_name: draw(st.floats(lo, hi))}
    names = ["base", "max", f"log_{rate_name}"]
    if form == "hill":
        body["shape"] = draw(st.floats(0.2, 1.0))
        names.append("log_shape")
    k = len(names)
    # a random covariance: A A' with entries scaled from nearly certain to very unsure
    scale = draw(st.sampled_from([1e-6, 1e-3, 1e-2, 0.3]))
    entries = draw(st.lists(st.floats(-1.0, 1.0), min_size=k * k, max_size=k * k))
    a = np.array(entries).reshape(k, k) * scale
    cov = (a @ a.T).tolist()
    return with_covariance({form: body}, names, cov)


@settings(max_examples=60, deadline=None)
@given(curve=uncertain_curves(), seed=st.integers(0, 2**32 - 1))
def test_the_band_holds_the_curve_and_stays_a_quality(curve: Curve, seed: int) -> None:
    band = curve_band(curve, GRID, draws=500, seed=seed)
    exact = problem_curve(curve)
    for x, low, fitted, high in zip(band.spend, band.low, band.curve, band.high, strict=True):
        assert fitted == evaluate(exact, x)
        assert 0.0 <= low <= fitted <= high <= 1.0


def test_a_fitted_curve_band_narrows_with_more_observations() -> None:
    rng = np.random.default_rng(11)

    def width(n: int) -> float:
        spend = rng.uniform(5_000, 200_000, n)
        quality = 0.2 + 0.6 * spend / (spend + 60_000) + rng.normal(0, 0.02, n)
        curve = Curve.model_validate(
            fit(observations(spend.tolist(), quality.tolist()), "saturating").curve()
        )
        return float(np.mean(curve_band(curve, GRID).width))

    few, many = width(10), width(160)
    # the standard errors fall as 1 / sqrt(n): 16 times the data, about a quarter the width
    assert many < 0.5 * few, (few, many)


def test_the_linear_band_is_exact_for_a_linear_parameter_and_agrees_with_draws() -> None:
    from optimizer.bands import linear_band

    s = 0.02
    curve = with_covariance(SATURATING, ["base"], [[s * s]])
    linear = linear_band(curve, GRID)
    assert linear is not None
    low, high = linear
    for x, lo, hi in zip(GRID, low, high, strict=True):
        assert (hi - lo) / 2 == pytest.approx(Z90 * s * (1 - x / (x + 50_000)), rel=1e-6)
    # a small covariance on all three: the drawn band is the linear one, up to sampling
    names = ["base", "max", "log_half_spend"]
    cov = [[1e-4, 2e-5, 1e-4], [2e-5, 2e-4, 3e-4], [1e-4, 3e-4, 4e-3]]
    curve = with_covariance(SATURATING, names, cov)
    drawn = curve_band(curve, GRID[1:])
    linear = linear_band(curve, GRID[1:])
    assert linear is not None
    widths = np.array(linear[1]) - np.array(linear[0])
    assert np.allclose(drawn.width, widths, rtol=0.08)
    assert linear_band(Curve.model_validate(SATURATING), GRID) is None
