"""S-shaped curves at size (make bench): 500 x 200 with 20 % S-shaped curves and 5,000 x
2,000 with 5 %, each to a MIP gap of 1e-4 in a fresh process (bench_s_shaped.py)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.mark.parametrize(
    ("touchpoints", "journeys", "share"), [(500, 200, 0.2), (5_000, 2_000, 0.05)]
)
def test_s_shaped_sizes(touchpoints: int, journeys: int, share: float) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(HERE / "bench_s_shaped.py"),
            "--one",
            str(touchpoints),
            str(journeys),
            str(share),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    print()
    print(json.dumps(figures))
    assert figures["s_shaped"] > 0
    assert figures["mip_gap"] <= 1e-4
    # no allocation beats the concave-envelope bound on the true curves
    assert figures["objective"] <= figures["envelope_bound"] * (1 + 1e-9)
