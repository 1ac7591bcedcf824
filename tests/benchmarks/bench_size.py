"""One benchmark run in a fresh process (clean peak memory): prints one JSON line.

python tests/benchmarks/bench_size.py DOCUMENT.json [--floor]
"""

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    path = Path(sys.argv[1])
    with_floor = "--floor" in sys.argv
    base_mib = peak_mib()

    from optimizer.cli import quiet_highs
    from optimizer.document import load_document
    from optimizer.problem import resolve
    from optimizer.solve import solve

    quiet_highs()
    out: dict[str, float | int] = {}

    # the whole run as a user gets it: document file -> run result (best of two: HiGHS's
    # interior point method varies from run to run on the large sizes)
    best = None
    for _ in range(2):
        t0 = time.perf_counter()
        doc = load_document(path)
        t1 = time.perf_counter()
        problem = resolve(doc)
        result = solve(problem)
        t2 = time.perf_counter()
        if best is None or t2 - t0 < best[1]:
            best = (t1 - t0, t2 - t0, result.solver.solve_seconds, result.solver.build_seconds)
    assert best is not None
    out["load_validate"], out["total"], out["total_solver"], out["build"] = best
    out["peak_mib"] = peak_mib()
    out["rows"] = result.solver.constraints
    out["gap"] = result.solver.approximation_gap
    out["refinements"] = result.solver.refinements
    out["objective"] = result.portfolio.objective

    if with_floor:
        from floor import floor_solve

        floor = min((floor_solve(problem) for _ in range(2)), key=lambda f: f.total)
        out["floor_build"] = floor.build_seconds
        out["floor_solve"] = floor.solve_seconds
        out["floor_total"] = floor.total
        out["floor_objective"] = floor.objective
        out["floor_rows"] = floor.rows
    out["base_mib"] = base_mib
    print(json.dumps(out))


if __name__ == "__main__":
    main()
