"""Robustness from evidence: curves with an uncertainty are drawn from it (jointly), the
uniform spread only where there is none, and the report says which touchpoint used which."""

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from optimizer.document import DocumentError, Uncertainty, validate_document
from optimizer.problem import Curve, resolve
from optimizer.robustness import (
    curve_qualities,
    draw_theta,
    evidence_of,
    robustness,
)
from optimizer.solve import solve

from .builders import journey, portfolio, touchpoint

JOURNEYFOLIO = str(Path(sys.executable).with_name("journeyfolio"))
VALUE = 1_000_000.0

COVARIANCE = [[4e-4, -3e-4, 0.0], [-3e-4, 4e-4, 1e-3], [0.0, 1e-3, 0.04]]
"""Of (base, max, log half_spend): base and max correlated -0.75."""


def sat(base: float, top: float, half: float, uncertainty: dict[str, Any] | None = None):
    curve: dict[str, Any] = {"saturating": {"base": base, "max": top, "half_spend": half}}
    if uncertainty is not None:
        curve["source"] = {"kind": "fit", "uncertainty": uncertainty}
    return curve


def one_touchpoint(curve: dict[str, Any]) -> dict[str, Any]:
    """One touchpoint carrying one journey alone: the journey's value is VALUE x quality."""
    return portfolio(
        budget=50_000,
        touchpoints=[touchpoint("t", curve, 100_000, current=20_000)],
        journeys=[journey("j", VALUE, [("t", 1)])],
    )


def run_of(data: dict[str, Any], **kwargs: Any):  # type: ignore[no-untyped-def]
    doc = validate_document(data)
    problem = resolve(doc)
    run = solve(problem)
    return robustness(problem, run, evidence=evidence_of(doc), **kwargs), run


def test_covariance_draws_keep_the_correlation() -> None:
    uncertainty = Uncertainty(parameters=["base", "max", "log_half_spend"], covariance=COVARIANCE)
    mean = np.array([0.2, 0.8, math.log(30_000)])
    theta = draw_theta(uncertainty, mean, np.random.default_rng(5), 40_000)
    np.testing.assert_allclose(theta.mean(axis=0), mean, atol=3e-3)
    np.testing.assert_allclose(np.cov(theta, rowvar=False), COVARIANCE, atol=2e-4, rtol=0.03)
    correlation = np.corrcoef(theta, rowvar=False)
    assert correlation[0, 1] == pytest.approx(-0.75, abs=0.02)
    assert correlation[1, 2] == pytest.approx(1e-3 / math.sqrt(4e-4 * 0.04), abs=0.02)


def test_drawn_parameters_give_the_curve_they_name() -> None:
    curve = Curve(base=0.2, top=0.8, half_spend=30_000.0, form="hill", shape=0.7)
    theta = np.array([[0.1, 0.9, math.log(10_000.0), math.log(0.5)]])
    names = ["base", "max", "log_half_spend", "log_shape"]
    spends = np.array([0.0, 10_000.0, 40_000.0])
    q = curve_qualities(curve, names, theta, spends)[:, 0]
    expected = 0.1 + 0.8 * spends**0.5 / (spends**0.5 + 10_000.0**0.5)
    np.testing.assert_allclose(q, expected, rtol=1e-12)


def test_the_report_names_each_touchpoints_method() -> None:
    band = {"band": [[0, 0.1, 0.1], [50_000, 0.4, 0.7], [100_000, 0.5, 0.9]]}
    draws = {"parameters": ["max", "log_scale"], "draws": [[0.8, 10.0], [0.85, 10.3]]}
    base_and_max = {"parameters": ["base", "max"], "covariance": [[4e-4, -3e-4], [-3e-4, 4e-4]]}
    data = portfolio(
        budget=200_000,
        touchpoints=[
            touchpoint("a", sat(0.1, 0.9, 30_000), 100_000, current=10_000),
            touchpoint("b", sat(0.2, 0.8, 20_000, base_and_max), 100_000),
            touchpoint(
                "c",
                {
                    "exponential": {"base": 0.1, "max": 0.8, "scale": 25_000},
                    "source": {"kind": "fit", "uncertainty": draws},
                },
                100_000,
            ),
            touchpoint(
                "d",
                {
                    "points": [[0, 0.1], [50_000, 0.55], [100_000, 0.7]],
                    "source": {"kind": "meridian", "uncertainty": band},
                },
                100_000,
            ),
        ],
        journeys=[journey("j", VALUE, [("a", 1), ("b", 1), ("c", 1), ("d", 1)])],
    )
    result, _ = run_of(data, samples=200, seed=3)
    assert result.methods == {
        "covariance": ["b"],
        "draws": ["c"],
        "band": ["d"],
        "uniform": ["a"],
    }
    assert result.optimum.p10 < result.optimum.p90


def test_a_tight_covariance_varies_less_than_the_uniform_spread() -> None:
    tight = [[1e-6, 0.0, 0.0], [0.0, 1e-6, 0.0], [0.0, 0.0, 1e-4]]
    names = ["base", "max", "log_half_spend"]
    with_evidence, run = run_of(
        one_touchpoint(sat(0.2, 0.8, 30_000, {"parameters": names, "covariance": tight})),
        samples=1000,
        seed=1,
    )
    uniform, _ = run_of(one_touchpoint(sat(0.2, 0.8, 30_000)), samples=1000, seed=1)
    assert with_evidence.methods["covariance"] == ["t"]
    assert uniform.methods["uniform"] == ["t"]
    width = with_evidence.optimum.p90 - with_evidence.optimum.p10
    assert 0 < width < 0.25 * (uniform.optimum.p90 - uniform.optimum.p10)
    assert with_evidence.optimum.p50 == pytest.approx(run.portfolio.weighted_value, rel=2e-3)
    # and a wide one more than it
    wide = [[0.01, 0.0, 0.0], [0.0, 0.01, 0.0], [0.0, 0.0, 0.5]]
    loose, _ = run_of(
        one_touchpoint(sat(0.2, 0.8, 30_000, {"parameters": names, "covariance": wide})),
        samples=1000,
        seed=1,
    )
    assert loose.optimum.p90 - loose.optimum.p10 > uniform.optimum.p90 - uniform.optimum.p10


def test_draws_are_the_curves_sampled() -> None:
    # a single draw: every sample is that curve, exactly (value = VALUE x its quality)
    draw = [0.3, 0.7, math.log(10_000.0)]
    result, run = run_of(
        one_touchpoint(
            sat(
                0.2, 0.8, 30_000, {"parameters": ["base", "max", "log_half_spend"], "draws": [draw]}
            )
        ),
        samples=50,
    )
    spend = run.touchpoints[0].spend
    expected = VALUE * (0.3 + 0.4 * spend / (spend + 10_000.0))
    for figure in (result.optimum.p10, result.optimum.p50, result.optimum.p90):
        assert figure == pytest.approx(expected, rel=1e-12)


def test_a_band_draws_one_quantile_between_low_and_high() -> None:
    curve = {
        "points": [[0, 0.2], [100_000, 0.8]],
        "source": {
            "kind": "meridian",
            "uncertainty": {"band": [[0, 0.2, 0.2], [100_000, 0.6, 0.9]]},
        },
    }
    data = one_touchpoint(curve)
    result, run = run_of(data, samples=4000, seed=2)
    spend = run.touchpoints[0].spend
    q = 0.2 + 0.6 * spend / 100_000
    low, high = 0.2 + 0.4 * spend / 100_000, 0.2 + 0.7 * spend / 100_000
    # u ~ U(0, 1): P10 at u = 0.1 is 80 % of the way from the curve down to low; P90 likewise
    # up (4,000 samples: the P10 of u is within 0.02 of 0.1, 4 standard errors)
    assert result.optimum.p10 == pytest.approx(VALUE * (q - 0.8 * (q - low)), abs=VALUE * 0.004)
    assert result.optimum.p90 == pytest.approx(VALUE * (q + 0.8 * (high - q)), abs=VALUE * 0.004)
    assert result.optimum.p50 == pytest.approx(VALUE * q, abs=VALUE * 0.004)
    # the current allocation (spend 20,000) moves by the same quantile: both within their bands
    assert result.current.p10 < result.current.nominal < result.current.p90


def test_evidence_that_does_not_fit_its_curve_is_named() -> None:
    # the document refuses it, with its path ...
    data = one_touchpoint(
        sat(0.2, 0.8, 30_000, {"parameters": ["base", "log_scale"], "covariance": [[1, 0], [0, 1]]})
    )
    with pytest.raises(DocumentError) as error:
        validate_document(data)
    assert [str(p) for p in error.value.problems] == [
        "touchpoints[0].curve: source.uncertainty.parameters: 'log_scale' is not a parameter "
        "of a saturating curve (base, max, half_spend or log_half_spend)"
    ]
    # ... and robustness, given such evidence otherwise, names the touchpoint
    doc = validate_document(one_touchpoint(sat(0.2, 0.8, 30_000)))
    problem = resolve(doc)
    evidence = {"t": Uncertainty(parameters=["log_lam"], draws=[[1.0]])}
    with pytest.raises(ValueError, match=r"^touchpoint 't': curve.source.uncertainty.parameters"):
        robustness(problem, solve(problem), samples=10, evidence=evidence)
    evidence = {"t": Uncertainty(parameters=["base", "max"], covariance=[[1, 2], [2, 1]])}
    with pytest.raises(ValueError, match=r"covariance: not positive semidefinite"):
        robustness(problem, solve(problem), samples=10, evidence=evidence)


def test_robustness_command_reports_methods(tmp_path: Path) -> None:
    names = ["base", "max", "log_half_spend"]
    data = one_touchpoint(sat(0.2, 0.8, 30_000, {"parameters": names, "covariance": COVARIANCE}))
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    args = [JOURNEYFOLIO, "robustness", str(path), "--samples", "100"]
    proc = subprocess.run([*args, "-f", "json"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["methods"] == {
        "covariance": ["t"],
        "draws": [],
        "band": [],
        "uniform": [],
    }
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "drawn from their covariance (1): t" in proc.stdout
