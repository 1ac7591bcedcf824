"""Curves fitted to observations: known curves recovered from noisy generated data (seeded),
and data that cannot support a curve refused with its reason."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from optimizer.curves import CurveTable
from optimizer.document import Curve as DocumentCurve
from optimizer.document import validate_document
from optimizer.fit import FitError, fit, observations, read_csv
from optimizer.problem import Curve, problem_curve

from .builders import journey, portfolio, touchpoint

JOURNEYFOLIO = str(Path(sys.executable).with_name("journeyfolio"))

TRUTH = {
    "saturating": Curve(base=0.2, top=0.85, half_spend=30_000.0),
    "hill": Curve(base=0.2, top=0.85, half_spend=30_000.0, shape=0.6, form="hill"),
    "exponential": Curve(base=0.2, top=0.85, scale=40_000.0, form="exponential"),
    "logistic": Curve(base=0.2, top=0.85, lam=4e-5, form="logistic"),
}
RATE = {"saturating": "half_spend", "hill": "half_spend", "exponential": "scale"}
NOISE = 0.01


def generated(curve: Curve, seed: int, n: int = 36) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    spend = rng.uniform(2_000, 150_000, n)
    quality = CurveTable([curve]).evaluate(spend[:, None])[:, 0] + rng.normal(0, NOISE, n)
    return spend, quality


def values(curve: Curve, spend: np.ndarray) -> np.ndarray:
    return CurveTable([curve]).evaluate(spend[:, None])[:, 0]


@pytest.mark.parametrize("form", TRUTH)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_known_curves_are_recovered(form: str, seed: int) -> None:
    truth = TRUTH[form]
    spend, quality = generated(truth, seed)
    result = fit(observations(spend, quality), form)  # type: ignore[arg-type]
    fitted = problem_curve(DocumentCurve.model_validate(result.curve()))
    # the curve: within 0.035 quality of the truth everywhere on the observed spends and
    # 0.01 root mean square (the noise is 0.01 on each of 36 observations)
    grid = np.linspace(2_000, 150_000, 200)
    error = values(fitted, grid) - values(truth, grid)
    assert np.abs(error).max() < 0.035
    assert np.sqrt((error**2).mean()) < 0.01
    assert result.rmse == pytest.approx(NOISE, rel=0.35)
    assert result.r2 > 0.97
    assert result.n == 36
    p, se = result.parameters, result.standard_errors
    true = {"base": 0.2, "max": 0.85, "shape": 0.6, "lam": 4e-5}
    true |= {"half_spend": truth.half_spend, "scale": truth.scale}
    # every parameter within 3 standard errors of the truth (the covariance is honest);
    # base and max within 0.1 (a hill curve's base, max and shape trade off against each
    # other), else base within 0.05, max within 0.03 and the spend scale within 25 %
    for name, value in p.items():
        assert se[name] > 0
        assert abs(value - true[name]) <= 3 * se[name], (name, value, se[name])
    if form == "hill":
        assert p["base"] == pytest.approx(0.2, abs=0.1)
        assert p["max"] == pytest.approx(0.85, abs=0.1)
        return
    assert p["base"] == pytest.approx(0.2, abs=0.05)  # at spend 0, below the data
    assert p["max"] == pytest.approx(0.85, abs=0.03)
    rate = "lam" if form == "logistic" else RATE[form]
    assert p[rate] == pytest.approx(true[rate], rel=0.25)
    cov = np.array(result.covariance)
    assert cov.shape == (3, 3)
    assert np.allclose(cov, cov.T)


@pytest.mark.parametrize("form", ["saturating", "exponential", "logistic"])
def test_auto_picks_the_form_the_data_came_from(form: str) -> None:
    spend, quality = generated(TRUTH[form], 11)
    result = fit(observations(spend, quality))
    assert result.form == form
    assert set(result.compared) == {"saturating", "hill", "exponential", "logistic"}
    assert min(result.compared.values()) == result.compared[form]


def test_outcomes_are_scaled_to_quality() -> None:
    spend, quality = generated(TRUTH["exponential"], 4)
    outcome = 0.40 + quality * (0.95 - 0.40)  # first-call resolution 40 % .. 95 %
    result = fit(observations(spend, outcome, 0.40, 0.95), "exponential")
    assert result.parameters["max"] == pytest.approx(0.85, abs=0.03)
    source = result.curve("2026-12-01")["source"]
    assert {k: source[k] for k in ("kind", "date", "n")} == {
        "kind": "fit",
        "date": "2026-12-01",
        "n": 36,
    }
    # the curve carries its covariance on (base, max, log scale), the form's parameters
    uncertainty = source["uncertainty"]
    assert uncertainty["parameters"] == ["base", "max", "log_scale"]
    assert uncertainty["covariance"] == result.covariance
    se_max = uncertainty["covariance"][1][1] ** 0.5
    assert se_max == pytest.approx(result.standard_errors["max"])


def test_a_fitted_curve_with_its_uncertainty_is_a_valid_document_curve() -> None:
    spend, quality = generated(TRUTH["hill"], 2)
    curve = fit(observations(spend, quality), "hill").curve("2026-12-01")
    doc = validate_document(
        portfolio(
            budget=10_000,
            touchpoints=[touchpoint("t", curve, 200_000)],
            journeys=[journey("j", 100, [("t", 1)])],
        )
    )
    source = doc.touchpoints[0].curve.source
    assert source is not None
    assert source.uncertainty is not None
    assert source.uncertainty.parameters == ["base", "max", "log_half_spend", "log_shape"]
    assert len(source.uncertainty.covariance or []) == 4


def refused(spend: Any, outcome: Any, form: str = "auto", **kwargs: Any) -> str:
    with pytest.raises(FitError) as info:
        fit(observations(spend, outcome), form, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


def test_unsupported_data_are_refused_with_their_reason() -> None:
    assert "4 observations: a curve needs at least 5" in refused(
        [1, 2, 3, 4], [0.1, 0.2, 0.3, 0.35]
    )
    assert "no variation in spend: every observation spends 500" in refused(
        [500] * 8, np.linspace(0.2, 0.4, 8)
    )
    assert "outcomes fall with spend" in refused(
        np.linspace(100, 1000, 8), np.linspace(0.8, 0.3, 8)
    )
    # still rising steadily at the largest spend: nothing shows where it saturates
    spend = np.linspace(1_000, 10_000, 12)
    message = refused(spend, 0.1 + 0.00003 * spend)
    assert message.startswith("the data do not show where it saturates")
    assert "largest observed spend 10,000" in message


def test_s_shaped_hill_curves_only_when_asked_for() -> None:
    spend = np.linspace(1_000, 60_000, 24)
    truth = 0.1 + 0.8 * spend**3 / (spend**3 + 20_000.0**3)
    s_curve = fit(observations(spend, truth), "hill", s_shaped=True)
    assert s_curve.parameters["shape"] == pytest.approx(3, rel=0.02)
    assert s_curve.parameters["half_spend"] == pytest.approx(20_000, rel=0.02)
    assert DocumentCurve.model_validate(s_curve.curve()).hill is not None  # the document takes it
    concave = fit(observations(spend, truth), "hill")  # without asking: shape <= 1
    assert concave.parameters["shape"] <= 1


def test_bad_csv_names_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "obs.csv"
    path.write_text("period,spend,outcome\n2026-01,1000,0.3\n2026-02,lots,0.4\n2026-03,-5,x\n")
    with pytest.raises(FitError) as info:
        read_csv(path)
    message = str(info.value)
    assert "line 3, column spend: 'lots' is not a number" in message
    assert "line 4, column spend: -5 is negative" in message
    assert "line 4, column outcome: 'x' is not a number" in message
    path.write_text("period,cost,outcome\n2026-01,1000,0.3\n")
    with pytest.raises(FitError, match="line 1: missing column 'spend'"):
        read_csv(path)


def test_command_line_prints_a_curve_ready_to_paste(tmp_path: Path) -> None:
    spend, quality = generated(TRUTH["saturating"], 5, n=20)
    path = tmp_path / "obs.csv"
    pairs = zip(spend.tolist(), quality.tolist(), strict=True)
    rows = [f"2026-{i:02d},{s:.2f},{q:.5f}" for i, (s, q) in enumerate(pairs, 1)]
    path.write_text("period,spend,outcome\n" + "\n".join(rows) + "\n")
    done = subprocess.run(
        [JOURNEYFOLIO, "fit", str(path), "--form", "saturating", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["form"] == "saturating"
    assert data["n"] == 20
    assert {"r2", "rmse", "uncertainty", "warnings", "curve"} <= set(data)
    curve = DocumentCurve.model_validate(data["curve"])  # a curve of the document
    assert curve.source is not None
    assert curve.source.kind == "fit"
    text = subprocess.run(
        [JOURNEYFOLIO, "fit", str(path)], capture_output=True, text=True, check=False
    )
    assert text.returncode == 0
    assert text.stdout.startswith("form      ")

    path.write_text("period,spend,outcome\n2026-01,100,0.2\n2026-02,100,0.3\n")
    bad = subprocess.run([JOURNEYFOLIO, "fit", str(path)], capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert "error: 2 observations: a curve needs at least 5" in bad.stderr


def test_few_observations_get_bootstrap_draws_instead_of_a_covariance() -> None:
    truth = TRUTH["exponential"]
    spend, quality = generated(truth, 4, n=10)
    result = fit(observations(spend, quality), "exponential")
    assert result.method == "bootstrap"
    data = result.to_data("2026-12-01")
    assert data["uncertainty"]["method"] == "bootstrap"
    assert data["uncertainty"]["samples"] == 200
    uncertainty = data["curve"]["source"]["uncertainty"]
    assert set(uncertainty) == {"parameters", "draws"}
    assert uncertainty["parameters"] == ["base", "max", "log_scale"]
    draws = np.array(uncertainty["draws"])
    assert draws.shape == (200, 3)
    # the draws scatter around the fit, and the truth lies within their range
    theta = [
        result.parameters["base"],
        result.parameters["max"],
        np.log(result.parameters["scale"]),
    ]
    truth_theta = [0.2, 0.85, np.log(40_000.0)]
    for k in range(3):
        low, high = np.percentile(draws[:, k], [0.5, 99.5])
        assert low < theta[k] < high
        assert low < truth_theta[k] < high, (k, low, high)
    assert result.standard_errors["max"] == pytest.approx(draws[:, 1].std(ddof=1), rel=1e-4)
    assert any("bootstrap" in w for w in result.warnings)
    # seeded: the same data give the same draws; a valid document curve
    assert fit(observations(spend, quality), "exponential").draws == result.draws
    DocumentCurve.model_validate(data["curve"])


def test_fifteen_observations_keep_the_covariance() -> None:
    spend, quality = generated(TRUTH["saturating"], 5, n=15)
    result = fit(observations(spend, quality), "auto")
    assert result.method == "covariance"
    assert "covariance" in result.curve()["source"]["uncertainty"]
    spend, quality = generated(TRUTH["saturating"], 5, n=14)
    assert fit(observations(spend, quality), "auto").method == "bootstrap"


def test_a_degenerate_covariance_gets_bootstrap_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    import optimizer.fit as fitting

    plain = fitting.fit_form

    def degenerate(*args: Any, **kwargs: Any) -> Any:
        return replace(plain(*args, **kwargs), degenerate=True)

    monkeypatch.setattr(fitting, "fit_form", degenerate)
    spend, quality = generated(TRUTH["saturating"], 6)  # 36 observations
    result = fit(observations(spend, quality), "saturating")
    assert result.method == "bootstrap"
    assert "draws" in result.curve()["source"]["uncertainty"]
    assert any("degenerate covariance" in w for w in result.warnings)
