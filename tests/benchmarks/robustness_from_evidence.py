"""Robustness of a demo portfolio whose curves were fitted to observations (issue 11 item 6).

python tests/benchmarks/robustness_from_evidence.py [OUT.yaml] [--samples 2000] [--seed 0]

Every touchpoint of seeds/maschinenbau-2027.yaml gets observations generated from its own
curve (spends uniform in 10..100 % of its max spend, quality noise 0.03 normal, seeded):
24 periods for the first half of the touchpoints, 10 for the second (bootstrap
uncertainty). Each is fitted (`auto`); the fitted curve with its uncertainty replaces the
touchpoint's curve; a touchpoint whose data support no curve keeps its own (uniform
spread). The fitted portfolio is written to OUT.yaml (default: a temporary file) and
robustness runs on it, then on the seed as it is (every curve uniform) for comparison.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

from optimizer.curves import CurveTable
from optimizer.document import Curve as DocumentCurve
from optimizer.document import load_document, parse_text, validate_document
from optimizer.fit import FitError, fit, observations
from optimizer.problem import problem_curve

SEED_DOC = Path(__file__).resolve().parents[2] / "seeds" / "maschinenbau-2027.yaml"
NOISE = 0.03


def fitted_document(rng: np.random.Generator) -> tuple[dict[str, object], list[str]]:
    data = parse_text(SEED_DOC.read_text(encoding="utf-8"), name=str(SEED_DOC))
    doc = load_document(SEED_DOC)
    lines: list[str] = []
    half = len(doc.touchpoints) // 2
    for i, tp in enumerate(doc.touchpoints):
        n = 24 if i < half else 10
        truth = problem_curve(tp.curve)
        spend = rng.uniform(0.1, 1.0, n) * tp.max_spend
        quality = CurveTable([truth]).evaluate(spend[:, None])[:, 0] + rng.normal(0, NOISE, n)
        try:
            result = fit(observations(spend, quality), "auto")
        except FitError as error:
            lines.append(f"  {tp.id:<28} n={n:<3} kept its curve: {error}")
            continue
        data["touchpoints"][i]["curve"] = result.curve("2026-12-04")
        grid = np.linspace(0, tp.max_spend, 101)
        fitted = problem_curve(DocumentCurve.model_validate(result.curve()))
        error_max = np.abs(
            CurveTable([fitted]).evaluate(grid[:, None])
            - CurveTable([truth]).evaluate(grid[:, None])
        ).max()
        lines.append(
            f"  {tp.id:<28} n={n:<3} {result.form:<12} {result.method:<10} r2 {result.r2:.3f} "
            f"max |fitted - true| {error_max:.3f}"
        )
    validate_document(data)
    return data, lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", nargs="?")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data, lines = fitted_document(np.random.default_rng(20261204))
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp()) / "maschinenbau-fitted.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    print(f"fitted curves ({out}):")
    print("\n".join(lines))
    exe = str(Path(sys.executable).with_name("journeyfolio"))
    common = ["--samples", str(args.samples), "--seed", str(args.seed)]
    for title, path in (("fitted curves, drawn from their evidence", out), ("seed", SEED_DOC)):
        print(f"\n== {title}")
        proc = subprocess.run(
            [exe, "robustness", str(path), *common], capture_output=True, text=True, check=False
        )
        print(proc.stdout + proc.stderr, end="")


if __name__ == "__main__":
    main()
