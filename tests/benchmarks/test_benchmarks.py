"""Speed and memory (make bench; not part of make test). Prints tables of figures.

Each size runs in a fresh process (tests/benchmarks/bench_size.py) so peak memory is the
run's own. "total" is document file -> run result, best of two; "non-solver" is that run's
time outside HiGHS (and PuLP's hand-over to it); the other columns time the same run again
in its parts. The floor is the same LP built with numpy and solved by highspy directly
(tests/benchmarks/floor.py). Machines here are noisy: compare ratios from one run.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from optimizer.generate import generate_document, write_document

HERE = Path(__file__).parent
SIZES = [(500, 200), (5_000, 2_000), (20_000, 10_000)]


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[int, int], Path]:
    folder = tmp_path_factory.mktemp("bench")
    out = {}
    for touchpoints, journeys in SIZES:
        path = folder / f"synthetic-{touchpoints}-{journeys}.json"
        write_document(generate_document(touchpoints, journeys, 1), path)
        out[(touchpoints, journeys)] = path
    return out


def run_size(path: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, str(HERE / "bench_size.py"), str(path), "--floor"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_sizes(documents: dict[tuple[int, int], Path]) -> None:
    rows = []
    for size in SIZES:
        figures = run_size(documents[size])
        rows.append((size, figures))
        # the floor solves the first chords once; the run refines them to its gap target,
        # so its true-curve objective lies within that gap of the floor's chord optimum
        assert figures["objective"] == pytest.approx(figures["floor_objective"], rel=2e-3)
    print()
    header = (
        f"{'touchpoints x journeys':>22} {'rows':>8} {'load+val':>9} {'build':>7} {'solves':>7} "
        f"{'total':>7} {'floor':>7} {'ratio':>6} {'gap':>9} {'non-solver':>10} {'peak MiB':>9}"
    )
    print(header)
    for (t, j), f in rows:
        non_solver = f["total"] - f["total_solver"]
        print(
            f"{f'{t:,} x {j:,}':>22} {f['rows']:>8,} {f['load_validate']:>9.2f} "
            f"{f['build']:>7.2f} {f['total_solver']:>7.2f} "
            f"{f['total']:>7.2f} {f['floor_total']:>7.2f} {f['total'] / f['floor_total']:>6.2f} "
            f"{f['gap']:>9.2e} {non_solver:>10.2f} {f['peak_mib']:>9.0f}"
        )


def test_frontier_against_separate_runs(documents: dict[tuple[int, int], Path]) -> None:
    from optimizer.document import load_document
    from optimizer.frontier import frontier
    from optimizer.problem import resolve
    from optimizer.solve import solve

    problem = resolve(load_document(documents[(500, 200)]))
    solve(problem)  # warm imports and caches
    start = time.perf_counter()
    one = solve(problem)
    single = time.perf_counter() - start
    start = time.perf_counter()
    result = frontier(problem, points=25)
    front = time.perf_counter() - start
    start = time.perf_counter()
    for point in result.points:
        solve(problem.with_budget(point.budget))
    separate = time.perf_counter() - start
    print()
    print(
        f"frontier of 25 points at 500 x 200: {front:.3f} s = {front / single:.2f} x one run "
        f"({single:.3f} s); 25 separate runs {separate:.3f} s ({separate / front:.1f} x the "
        f"frontier); one run in process: {one.solver.total_seconds:.3f} s"
    )


def test_command_line_end_to_end(documents: dict[tuple[int, int], Path]) -> None:
    exe = str(Path(sys.executable).with_name("journeyfolio"))
    path = str(documents[(500, 200)])
    subprocess.run([exe, "optimize", path, "-f", "json"], capture_output=True, check=True)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([exe, "optimize", path, "-f", "json"], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare = time.perf_counter() - start
    print()
    print(
        f"journeyfolio optimize (500 x 200) end to end, interpreter start included: "
        f"best {min(times):.2f} s, median {sorted(times)[2]:.2f} s (bare interpreter {bare:.2f} s)"
    )
