"""Curves imported from marketing-mix models: each import evaluates to the tool's own formula
(written out here from the tools' definitions, independently of optimizer/mmm.py), and every
kind of bad input is named with its file, line and column, with nothing written."""

import csv
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from optimizer.curves import CurveTable
from optimizer.document import Curve as DocumentCurve
from optimizer.document import load_document, validate_document
from optimizer.mmm import ImportProblems, import_curves
from optimizer.problem import problem_curve

from .builders import journey, portfolio, saturating, touchpoint

JOURNEYFOLIO = str(Path(sys.executable).with_name("journeyfolio"))
SPENDS = np.linspace(0.0, 400_000.0, 20)
"""Portfolio spends at which an import is compared with its tool (20 of them)."""

TV = (0.1, 0.8)
SEARCH = (0.2, 0.7)


def document(tmp_path: Path, observations: list[float] | None = None) -> Path:
    tv = touchpoint("tv", saturating(*TV, 50_000), 400_000)
    if observations is not None:
        tv["observations"] = {
            "rows": [
                {"period": f"2026-{m:02d}", "spend": s, "outcome": 0.5}
                for m, s in enumerate(observations, start=1)
            ]
        }
    search = touchpoint(
        "search-ads", {"points": [[0, SEARCH[0]], [100_000, 0.6], [400_000, SEARCH[1]]]}, 400_000
    )
    data = portfolio(
        budget=500_000,
        touchpoints=[tv, search],
        journeys=[journey("j", 1_000_000, [("tv", 1), ("search-ads", 2)])],
    )
    path = tmp_path / "portfolio.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def imported_quality(data: dict[str, Any], touchpoint_id: str, spends: np.ndarray) -> np.ndarray:
    tp = next(t for t in data["touchpoints"] if t["id"] == touchpoint_id)
    curve = problem_curve(DocumentCurve.model_validate(tp["curve"]))
    return CurveTable([curve]).evaluate(spends[:, None])[:, 0]


# --------------------------------------------------------------------------- Robyn


def robyn_hill(x: np.ndarray, alpha: float, gamma: float, x_range: np.ndarray, old: bool):
    """Robyn's saturation_hill: inflexion c(range(x) %*% c(1 - gamma, gamma)) before 3.12,
    gamma * max(x) since."""
    inflexion = np.dot(x_range, [1 - gamma, gamma]) if old else gamma * x_range.max()
    return x**alpha / (x**alpha + inflexion**alpha)


ROBYN = [
    ["solID", "tv_alphas", "tv_gammas", "tv_thetas", "search_ads_alphas", "search_ads_gammas"],
    ["1_12_3", 0.7, 0.4, 0.3, 0.9, 0.8],
    ["2_5_1", 0.5, 0.6, 0.1, 1.0, 0.3],
]


@pytest.mark.parametrize("version", ["3.11.1", "3.12.0"])
def test_robyn_evaluates_to_robyns_hill(tmp_path: Path, version: str) -> None:
    doc = document(tmp_path)
    hyper = write_csv(tmp_path / "pareto_hyperparameters.csv", ROBYN)
    mapping = write_csv(
        tmp_path / "map.csv",
        [
            ["channel", "touchpoint", "spend_min", "spend_max", "spend_scale"],
            ["tv", "tv", 2_000, 30_000, 4],  # weekly model, quarterly plan (say)
            ["search_ads", "search-ads", 1_000, 20_000, ""],
        ],
    )
    result = import_curves(
        "robyn", hyper, doc, mapping=mapping, robyn_version=version, solution="1_12_3"
    )
    old = version.startswith("3.11")
    for channel, tp, alpha, gamma, x_range, scale, (base, top) in (
        ("tv", "tv", 0.7, 0.4, np.array([2_000.0, 30_000.0]), 4.0, TV),
        ("search_ads", "search-ads", 0.9, 0.8, np.array([1_000.0, 20_000.0]), 1.0, SEARCH),
    ):
        expected = base + (top - base) * robyn_hill(SPENDS / scale, alpha, gamma, x_range, old)
        got = imported_quality(result.data, tp, SPENDS)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=0)
        note = next(i.note for i in result.imported if i.channel == channel)
        assert ("(1 - gamma) * min(x)" in note) == old
        assert version in note


def test_robyn_range_from_observations_adstocked_with_theta(tmp_path: Path) -> None:
    spends = [10_000.0, 0.0, 25_000.0, 5_000.0, 40_000.0, 0.0]
    doc = document(tmp_path, observations=spends)
    hyper = write_csv(tmp_path / "h.csv", [ROBYN[0][:4], ROBYN[1][:4]])
    result = import_curves("robyn", hyper, doc, robyn_version="3.11")
    adstocked, carry = [], 0.0
    for s in spends:  # Robyn's geometric adstock, x_t = s_t + theta x_{t-1}
        carry = s + 0.3 * carry
        adstocked.append(carry)
    x_range = np.array([min(adstocked), max(adstocked)])
    expected = TV[0] + (TV[1] - TV[0]) * robyn_hill(SPENDS, 0.7, 0.4, x_range, old=True)
    np.testing.assert_allclose(imported_quality(result.data, "tv", SPENDS), expected, rtol=1e-9)
    assert result.data["touchpoints"][0]["curve"]["source"]["kind"] == "robyn"


def test_robyn_needs_a_model_chosen_and_a_spend_range(tmp_path: Path) -> None:
    doc = document(tmp_path)
    hyper = write_csv(tmp_path / "h.csv", ROBYN)
    with pytest.raises(ImportProblems, match=r"2 models; pick one with --solution"):
        import_curves("robyn", hyper, doc)
    with pytest.raises(ImportProblems) as error:
        import_curves("robyn", hyper, doc, solution="2_5_1")
    assert f"{hyper}: line 3, column tv_alphas: channel 'tv' needs its adstocked spend range" in (
        str(error.value)
    )


def test_s_shaped_robyn_channel_becomes_an_s_shaped_hill(tmp_path: Path) -> None:
    """Robyn's alpha above 1 is an S-shaped curve: imported as it is (the optimizer solves
    S-shaped curves as a MIP) and accepted by the document."""
    doc = document(tmp_path)
    hyper = write_csv(tmp_path / "h.csv", [ROBYN[0][:3], ["x", 2.2, 0.5]])
    mapping = write_csv(
        tmp_path / "m.csv", [["channel", "touchpoint", "spend_max"], ["tv", "tv", 1000]]
    )
    result = import_curves("robyn", hyper, doc, mapping=mapping)
    curve = result.data["touchpoints"][0]["curve"]
    assert curve["hill"]["shape"] == pytest.approx(2.2)
    assert validate_document(result.data).touchpoints[0].curve.hill is not None


# --------------------------------------------------------------------------- Meridian


def meridian_rows(channel: str, top: float, rate: float) -> list[list[Any]]:
    spend = np.linspace(0, 400_000, 20)
    mean = top * (1 - np.exp(-spend / rate))
    return [
        [channel, s, 0.2 * i, m, 0.8 * m, 1.3 * m]
        for i, (s, m) in enumerate(zip(spend, mean, strict=True))
    ]


def test_meridian_points_curve_and_band(tmp_path: Path) -> None:
    doc = document(tmp_path)
    rows = meridian_rows("tv", 5e6, 120_000) + meridian_rows("search-ads", 2e6, 60_000)
    table = write_csv(
        tmp_path / "rc.csv",
        [["channel", "spend", "spend_multiplier", "mean", "ci_lo", "ci_hi"], *rows],
    )
    result = import_curves("meridian", table, doc)
    for tp, top_outcome, rate, (base, top) in (
        ("tv", 5e6, 120_000, TV),
        ("search-ads", 2e6, 60_000, SEARCH),
    ):
        outcome = top_outcome * (1 - np.exp(-SPENDS / rate))
        # the largest mean outcome (at the largest spend) is the touchpoint's max quality
        expected = base + (top - base) * outcome / outcome.max()
        np.testing.assert_allclose(imported_quality(result.data, tp, SPENDS), expected, rtol=1e-9)
        curve = next(t for t in result.data["touchpoints"] if t["id"] == tp)["curve"]
        band = np.array(curve["source"]["uncertainty"]["band"])
        np.testing.assert_allclose(band[:, 0], SPENDS)
        for column, factor in ((1, 0.8), (2, 1.3)):
            interval = np.clip(base + (top - base) * factor * outcome / outcome.max(), 0, 1)
            np.testing.assert_allclose(band[:, column], interval, rtol=1e-9)
        assert curve["source"]["kind"] == "meridian"


# --------------------------------------------------------------------------- PyMC-Marketing


def test_pymc_marketing_saturations_with_channel_scale_undone(tmp_path: Path) -> None:
    doc = document(tmp_path)
    summary = write_csv(
        tmp_path / "summary.csv",
        [
            ["", "mean", "sd", "hdi_3%", "hdi_97%"],
            ["adstock_alpha[tv]", 0.5, 0.1, 0.3, 0.7],
            ["saturation_lam[tv]", 2.5, 0.3, 2, 3],
            ["saturation_beta[tv]", 0.4, 0.1, 0.2, 0.6],
            ["channel_scale[tv]", 150_000, 0, 150_000, 150_000],
            ["saturation_alpha[search_ads]", 0.9, 0.1, 0.7, 1.1],
            ["saturation_lam[search_ads]", 0.35, 0.05, 0.3, 0.4],
            ["channel_scale[search_ads]", 80_000, 0, 80_000, 80_000],
        ],
    )
    result = import_curves("pymc-marketing", summary, doc)
    x = SPENDS / 150_000  # y(s) = f(s / channel_scale)
    logistic = (1 - np.exp(-2.5 * x)) / (1 + np.exp(-2.5 * x))
    expected = TV[0] + (TV[1] - TV[0]) * logistic
    np.testing.assert_allclose(imported_quality(result.data, "tv", SPENDS), expected, rtol=1e-9)
    x = SPENDS / 80_000
    michaelis_menten = 0.9 * x / (0.35 + x)  # alpha x / (lam + x), alpha its ceiling
    expected = SEARCH[0] + (SEARCH[1] - SEARCH[0]) * michaelis_menten / 0.9
    got = imported_quality(result.data, "search-ads", SPENDS)
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_pymc_marketing_hill(tmp_path: Path) -> None:
    doc = document(tmp_path)
    summary = write_csv(
        tmp_path / "summary.csv",
        [
            ["", "mean"],
            ["saturation_slope[tv]", 0.8],
            ["saturation_kappa[tv]", 0.6],
            ["saturation_beta[tv]", 1.7],
        ],
    )
    mapping = write_csv(
        tmp_path / "m.csv", [["channel", "touchpoint", "channel_scale"], ["tv", "tv", 90_000]]
    )
    result = import_curves("pymc-marketing", summary, doc, mapping=mapping)
    x = SPENDS / 90_000
    hill = 1 - 0.6**0.8 / (0.6**0.8 + x**0.8)  # pymc_marketing hill_function(x, slope, kappa)
    expected = TV[0] + (TV[1] - TV[0]) * hill
    np.testing.assert_allclose(imported_quality(result.data, "tv", SPENDS), expected, rtol=1e-9)


# --------------------------------------------------------------------------- errors


def run_import(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [JOURNEYFOLIO, "import-curves", *args], capture_output=True, text=True, check=False
    )


ERRORS: list[tuple[str, list[list[Any]], str]] = [
    (  # a channel that names no touchpoint
        "meridian",
        [["channel", "spend", "mean", "ci_lo", "ci_hi"], ["tv", 0, 0, 0, 0], ["radio", 0, 0, 0, 0]],
        "{file}: line 3, column channel: channel 'radio' names no touchpoint of portfolio 'test'",
    ),
    (  # a missing column
        "meridian",
        [["channel", "spend", "mean", "ci_hi"], ["tv", 0, 0, 0]],
        "{file}: line 1, column ci_lo: missing column 'ci_lo'",
    ),
    (  # Robyn: a gamma out of range
        "robyn",
        [["tv_alphas", "tv_gammas"], [0.5, 1.5]],
        "{file}: line 2, column tv_gammas: 1.5 is out of range (must be in (0, 1])",
    ),
    (  # Robyn: a missing gamma
        "robyn",
        [["tv_alphas", "search_ads_alphas", "search_ads_gammas"], [0.5, 0.5, 0.5]],
        "{file}: line 1, column tv_gammas: missing column 'tv_gammas'",
    ),
    (  # PyMC-Marketing: a negative lam
        "pymc-marketing",
        [["", "mean"], ["channel_scale[tv]", 10], ["saturation_lam[tv]", -2]],
        "{file}: line 3, column mean: -2 is out of range (must be > 0)",
    ),
    (  # Meridian: an interval that does not hold its mean
        "meridian",
        [["channel", "spend", "mean", "ci_lo", "ci_hi"], ["tv", 0, 0, 0, 0], ["tv", 9, 5, 6, 7]],
        "{file}: line 3, column ci_lo: the interval 6..7 does not hold the mean 5",
    ),
    (  # Meridian: an outcome that falls with spend
        "meridian",
        [["channel", "spend", "mean", "ci_lo", "ci_hi"], ["tv", 0, 0, 0, 0], ["tv", 9, 5, 5, 5]]
        + [["tv", 5, 6, 6, 6]],
        "{file}: line 3, column mean: the incremental outcome falls with spend (5 at 9 after 6 "
        "at 5) for channel 'tv'",
    ),
]


@pytest.mark.parametrize(("kind", "rows", "message"), ERRORS)
def test_every_error_names_file_line_and_column(
    tmp_path: Path, kind: str, rows: list[list[Any]], message: str
) -> None:
    doc = document(tmp_path)
    file = write_csv(tmp_path / "model.csv", rows)
    with pytest.raises(ImportProblems) as error:
        import_curves(kind, file, doc)  # type: ignore[arg-type]
    expected = message.format(file=file)
    assert any(expected in p for p in error.value.problems), error.value.problems


def test_mapping_errors_name_the_mapping_line(tmp_path: Path) -> None:
    doc = document(tmp_path)
    file = write_csv(tmp_path / "rc.csv", [["channel", "spend", "mean", "ci_lo", "ci_hi"]])
    mapping = write_csv(
        tmp_path / "map.csv",
        [["channel", "touchpoint", "spend_scale"], ["tv", "tv", 1], ["radio", "rdio", 0]],
    )
    with pytest.raises(ImportProblems) as error:
        import_curves("meridian", file, doc, mapping=mapping)
    assert error.value.problems == [
        f"{mapping}: line 3, column touchpoint: no touchpoint 'rdio' in portfolio 'test'"
    ]
    mapping = write_csv(
        tmp_path / "map.csv",
        [["channel", "touchpoint", "spend_scale"], ["tv", "tv", 0], ["radio", "search-ads", 1]],
    )
    with pytest.raises(ImportProblems) as error:
        import_curves("meridian", file, doc, mapping=mapping)
    assert error.value.problems == [
        f"{mapping}: line 2, column spend_scale: 0 is out of range (must be > 0)"
    ]
    file = write_csv(
        tmp_path / "rc.csv",
        [["channel", "spend", "mean", "ci_lo", "ci_hi"]]
        + [["tv", s, s / 10, s / 20, s / 5] for s in (0, 10, 15)],
    )
    mapping = write_csv(
        tmp_path / "map.csv",
        [["channel", "touchpoint"], ["tv", "tv"], ["radio", "search-ads"]],
    )
    with pytest.raises(ImportProblems) as error:
        import_curves("meridian", file, doc, mapping=mapping)
    assert error.value.problems == [
        f"{mapping}: line 3, column channel: channel 'radio' is not in {file}"
    ]


def test_command_writes_nothing_unless_everything_maps(tmp_path: Path) -> None:
    doc = document(tmp_path)
    before = doc.read_bytes()
    good = meridian_rows("tv", 5e6, 120_000)
    file = write_csv(
        tmp_path / "rc.csv",
        [["channel", "spend", "spend_multiplier", "mean", "ci_lo", "ci_hi"], *good]
        + [["radio", 0, 0, 0, 0, 0]],
    )
    proc = run_import(str(file), "--from", "meridian", "--portfolio", str(doc))
    assert proc.returncode == 2
    assert f"error: {file}: line 22, column channel: channel 'radio'" in proc.stderr
    assert proc.stdout == ""
    assert doc.read_bytes() == before
    # the tv rows alone map: the document is written in place, and says where curves came from
    file = write_csv(
        tmp_path / "rc.csv",
        [["channel", "spend", "spend_multiplier", "mean", "ci_lo", "ci_hi"], *good],
    )
    out = tmp_path / "out.yaml"
    proc = run_import(str(file), "--from", "meridian", "--portfolio", str(doc), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert doc.read_bytes() == before
    assert "tv -> tv: points" in proc.stdout
    assert load_document(out).touchpoints[0].curve.source.kind == "meridian"  # type: ignore[union-attr]
    proc = run_import(str(file), "--from", "meridian", "--portfolio", str(doc))
    assert proc.returncode == 0, proc.stderr
    assert doc.read_bytes() != before
    assert load_document(doc).touchpoints[0].curve.points is not None


def test_robyn_command_says_which_inflexion_it_used(tmp_path: Path) -> None:
    doc = document(tmp_path)
    hyper = write_csv(tmp_path / "h.csv", [ROBYN[0][:3], ["x", 0.6, 0.5]])
    mapping = write_csv(
        tmp_path / "m.csv", [["channel", "touchpoint", "spend_max"], ["tv", "tv", 20_000]]
    )
    args = [str(hyper), "--from", "robyn", "--portfolio", str(doc), "--mapping", str(mapping)]
    proc = run_import(*args, "--robyn-version", "3.10.3", "-o", str(tmp_path / "o.yaml"))
    assert proc.returncode == 0, proc.stderr
    assert "inflexion = (1 - gamma) * min(x) + gamma * max(x) (Robyn 3.10.3" in proc.stdout
    proc = run_import(*args, "-o", str(tmp_path / "o.yaml"))
    assert "inflexion = gamma * max(x) (Robyn 3.12" in proc.stdout
