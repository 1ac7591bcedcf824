"""Robustness: seeded, reproducible, and exact at zero spread."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.document import load_document
from optimizer.problem import resolve
from optimizer.robustness import robustness
from optimizer.solve import solve

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.fixture(scope="module")
def case():  # type: ignore[no-untyped-def]
    problem = resolve(load_document(SEEDS / "finanzhaus-2027.yaml"))
    return problem, solve(problem)


def test_same_seed_same_numbers(case) -> None:  # type: ignore[no-untyped-def]
    problem, run = case
    a = robustness(problem, run, samples=300, spread=0.3, seed=7)
    b = robustness(problem, run, samples=300, spread=0.3, seed=7)
    c = robustness(problem, run, samples=300, spread=0.3, seed=8)
    assert a == b
    assert a.optimum.p50 != c.optimum.p50


def test_zero_spread_gives_exactly_the_plain_run(case) -> None:  # type: ignore[no-untyped-def]
    problem, run = case
    result = robustness(problem, run, samples=50, spread=0.0)
    for spread, expected in (
        (result.optimum, run.portfolio.weighted_value),
        (result.silo, run.baselines.silo.weighted_value),
        (result.current, run.baselines.current.weighted_value),
    ):
        for figure in (spread.nominal, spread.p10, spread.p50, spread.p90, spread.mean):
            assert figure == pytest.approx(expected, rel=1e-12)
    assert result.optimum_beats_silo == 1.0


def test_spread_widens_with_the_perturbation(case) -> None:  # type: ignore[no-untyped-def]
    problem, run = case
    narrow = robustness(problem, run, samples=400, spread=0.05, seed=1)
    wide = robustness(problem, run, samples=400, spread=0.4, seed=1)
    assert wide.optimum.p90 - wide.optimum.p10 > 2 * (narrow.optimum.p90 - narrow.optimum.p10)
    assert narrow.optimum.p10 <= narrow.optimum.p50 <= narrow.optimum.p90
    assert 0.0 <= wide.optimum_beats_silo <= 1.0


def test_progress_reports_every_sample(case) -> None:  # type: ignore[no-untyped-def]
    problem, run = case
    seen: list[int] = []
    robustness(problem, run, samples=600, progress=seen.append)
    assert sum(seen) == 600
    assert len(seen) == 3  # blocks of 256


def test_robustness_command() -> None:
    exe = str(Path(sys.executable).with_name("journeyfolio"))
    seed = str(SEEDS / "finanzhaus-2027.yaml")
    proc = subprocess.run(
        [exe, "robustness", seed, "--samples", "100", "--seed", "3", "-f", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["samples"] == 100
    assert data["seed"] == 3
    assert data["optimum"]["p10"] <= data["optimum"]["p90"]
