"""The curve forms beyond `points` and `saturating`: exact values and slopes, chords below
and tangents above the true curve, a hand-worked optimum, and the document round trip."""

import math
from typing import Any

import numpy as np
import pytest

from optimizer.curves import (
    CurveTable,
    Params,
    evaluate,
    finite_slope,
    refine,
    saturating_lines_batch,
    slope_at,
)
from optimizer.document import document_to_data, validate_document
from optimizer.problem import Curve, problem_curve
from optimizer.solve import solve
from tests.optimizer.builders import journey, portfolio, problem_of, touchpoint

BASE, TOP = 0.15, 0.85
CURVES = {
    "saturating": Curve(base=BASE, top=TOP, half_spend=4000.0),
    "hill": Curve(base=BASE, top=TOP, half_spend=4000.0, shape=0.7, form="hill"),
    "hill-1": Curve(base=BASE, top=TOP, half_spend=4000.0, shape=1.0, form="hill"),
    "exponential": Curve(base=BASE, top=TOP, scale=5000.0, form="exponential"),
    "logistic": Curve(base=BASE, top=TOP, lam=3e-4, form="logistic"),
}


def formula(curve: Curve, x: float) -> float:
    """The formulas of portfolio-format.md, written out literally."""
    a = curve.top - curve.base
    match curve.form:
        case "saturating":
            return curve.base + a * x / (x + curve.half_spend)
        case "hill":
            n = curve.shape
            return curve.base + a * x**n / (x**n + curve.half_spend**n)
        case "exponential":
            return curve.base + a * (1 - math.exp(-x / curve.scale))
        case "logistic":
            e = math.exp(-curve.lam * x)
            return curve.base + a * (1 - e) / (1 + e)
    raise AssertionError(curve.form)


SPENDS = np.geomspace(50.0, 60_000.0, 20)


@pytest.mark.parametrize("name", CURVES)
def test_each_form_evaluates_to_its_formula(name: str) -> None:
    curve = CURVES[name]
    table = CurveTable([curve]).evaluate(SPENDS[:, None])[:, 0]
    for x, batch in zip(SPENDS.tolist(), table.tolist(), strict=True):
        assert evaluate(curve, x) == pytest.approx(formula(curve, x), rel=1e-12)
        assert batch == pytest.approx(formula(curve, x), rel=1e-12)
    assert evaluate(curve, 0.0) == pytest.approx(BASE, abs=1e-15)


@pytest.mark.parametrize("name", CURVES)
def test_slopes_match_finite_differences(name: str) -> None:
    curve = CURVES[name]
    params = Params.of([curve])
    for x in SPENDS.tolist():
        h = x * 1e-5
        numeric = (formula(curve, x + h) - formula(curve, x - h)) / (2 * h)
        assert slope_at(curve, x) == pytest.approx(numeric, rel=1e-6)
        assert float(params.slope(np.array([x]))[0]) == pytest.approx(slope_at(curve, x), rel=1e-12)
    # the spend where the slope is m inverts the slope (the silo baseline and tangents use it)
    for x in SPENDS.tolist():
        back = float(params.spend_at_slope(np.array([slope_at(curve, x)]))[0])
        assert back == pytest.approx(x, rel=1e-6)


def test_hill_below_shape_one_is_infinitely_steep_at_zero() -> None:
    curve = CURVES["hill"]
    assert slope_at(curve, 0.0) == math.inf
    assert math.isfinite(finite_slope(curve, 0.0, 60_000.0))


@pytest.mark.parametrize("name", CURVES)
def test_chords_lie_below_and_tangents_above(name: str) -> None:
    curve = CURVES[name]
    (lines,) = saturating_lines_batch([curve], [0.0], [60_000.0], 2.5e-4)
    x = np.linspace(0, 60_000, 6001)
    q = CurveTable([curve]).evaluate(x[:, None])[:, 0]
    slopes, intercepts = np.array(lines.slopes), np.array(lines.intercepts)
    chords = (intercepts[:, None] + slopes[:, None] * x).min(axis=0)
    tangents = (intercepts[:, None] + np.array(lines.deltas)[:, None] + slopes[:, None] * x).min(
        axis=0
    )
    assert (chords <= q + 1e-12).all()
    assert (tangents >= q - 1e-9).all()
    # breakpoints equidistribute the chord error near the tolerance (the logistic's first
    # chord errs most: its curvature is 0 at spend 0, where |q''| l^2 / 8 underestimates)
    assert 0.5 * 2.5e-4 <= (q - chords).max() <= 1.5 * 2.5e-4
    finer = refine(lines.breakpoints, [0, len(lines) - 1], curve)
    assert len(finer) == len(lines.breakpoints) + 2
    assert finer == sorted(finer)


def test_exponential_optimum_by_hand() -> None:
    # q_a = 1 - exp(-x/100), q_b = 1 - exp(-x/200), one journey weighting them 1:1, value 100,
    # budget 300. Equal slopes: exp(-xa/100)/100 = exp(-xb/200)/200, so xb = 2 xa - 200 ln 2;
    # xa + xb = 300 gives xa = 100 + 200 ln 2 / 3 = 146.21, xb = 153.79 and the value
    # 50 * (2 - exp(-xa/100) - exp(-xb/200)) = 50 * (2 - 0.23175 - 0.46350) = 65.237;
    # the budget's price is 50 * exp(-xa/100) / 100 = 0.11588.
    xa = 100 + 200 * math.log(2) / 3
    xb = 300 - xa
    value = 50 * (2 - math.exp(-xa / 100) - math.exp(-xb / 200))
    data = portfolio(
        budget=300,
        touchpoints=[
            touchpoint("a", {"exponential": {"base": 0, "max": 1, "scale": 100}}, 1000),
            touchpoint("b", {"exponential": {"base": 0, "max": 1, "scale": 200}}, 1000),
        ],
        journeys=[journey("j", 100, [("a", 1), ("b", 1)])],
    )
    result = solve(problem_of(data))
    assert result.solver.approximation_gap <= 1e-3
    assert result.portfolio.value == pytest.approx(value, rel=1e-3)
    assert result.portfolio.value <= value + 1e-9
    spends = {t.id: t.spend for t in result.touchpoints}
    assert spends["a"] == pytest.approx(xa, rel=0.02)
    assert spends["b"] == pytest.approx(xb, rel=0.02)
    assert result.shadow_prices.budget == pytest.approx(50 * math.exp(-xa / 100) / 100, rel=0.02)


def test_every_form_solves_with_values_on_the_true_curve() -> None:
    curves: list[dict[str, Any]] = [
        {"hill": {"base": 0.1, "max": 0.9, "half_spend": 3000, "shape": 0.6}},
        {"exponential": {"base": 0.2, "max": 0.8, "scale": 4000}},
        {"logistic": {"base": 0.05, "max": 0.95, "lam": 0.0004}},
        {"saturating": {"base": 0.1, "max": 0.7, "half_spend": 2000}},
    ]
    data = portfolio(
        budget=12_000,
        touchpoints=[touchpoint(f"t{i}", c, 10_000) for i, c in enumerate(curves)],
        journeys=[
            journey("j1", 50_000, [("t0", 2), ("t1", 1), ("t3", 1, True)]),
            journey("j2", 30_000, [("t1", 1), ("t2", 3)]),
        ],
    )
    problem = problem_of(data)
    result = solve(problem)
    assert result.status == "optimal"
    assert result.solver.approximation_gap <= 1e-3
    for t, tp in zip(result.touchpoints, problem.touchpoints, strict=True):
        assert t.quality == pytest.approx(evaluate(tp.curve, t.spend), abs=1e-9)
    assert result.portfolio.spend <= 12_000 + 1e-6


def test_new_forms_round_trip_with_source_and_observations() -> None:
    source = {"kind": "fit", "date": "2026-11-30", "n": 24}
    curves: list[dict[str, Any]] = [
        {"hill": {"base": 0.1, "max": 0.9, "half_spend": 3000, "shape": 0.6}, "source": source},
        {"exponential": {"base": 0.2, "max": 0.8, "scale": 4000}, "source": {"kind": "manual"}},
        {"logistic": {"base": 0.05, "max": 0.95, "lam": 0.0004}, "source": {"kind": "robyn"}},
    ]
    tps = [touchpoint(f"t{i}", c, 10_000) for i, c in enumerate(curves)]
    tps[0]["observations"] = {
        "kpi": "Conversion",
        "outcome_at_0": 0.01,
        "outcome_at_1": 0.05,
        "rows": [{"period": "2026-01", "spend": 1200.0, "outcome": 0.031}],
    }
    data = portfolio(
        budget=1000,
        touchpoints=tps,
        journeys=[journey("j", 100, [("t0", 1), ("t1", 1), ("t2", 1)])],
    )
    doc = validate_document(data)
    again = validate_document(document_to_data(doc))
    assert again == doc
    assert document_to_data(again)["touchpoints"][0]["curve"]["source"] == source
    assert [problem_curve(t.curve).form for t in doc.touchpoints] == [
        "hill",
        "exponential",
        "logistic",
    ]
