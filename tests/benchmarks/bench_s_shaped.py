"""S-shaped curves at size (issue 11 item 2): the MIP to a gap of 1e-4, timed. Prints one
JSON line per size and a table.

python tests/benchmarks/bench_s_shaped.py [TOUCHPOINTS JOURNEYS SHARE ...]

Default sizes: 500 x 200 with 20 % S-shaped curves, 5,000 x 2,000 with 5 % (synthetic
portfolios of optimizer/generate.py, seed 1, `s_shaped=share`). Each size runs in a fresh
process (clean memory, no warm caches). "mip" is the MIP solve alone; "solve" all solving
of the run (MIP, the LP with the binaries fixed, chord refinement, prices); "envelope" the
concave-envelope LP bound; "total" document data -> run result, envelope included.
"""

import json
import subprocess
import sys
import time

DEFAULT_SIZES = [(500, 200, 0.20), (5_000, 2_000, 0.05)]


def run_one(touchpoints: int, journeys: int, share: float) -> dict[str, float | int | None]:
    from optimizer.cli import quiet_highs
    from optimizer.document import validate_document
    from optimizer.generate import generate_document
    from optimizer.model import build_model
    from optimizer.problem import resolve
    from optimizer.solve import solve

    quiet_highs()
    data = generate_document(touchpoints, journeys, 1, s_shaped=share)
    problem = resolve(validate_document(data))
    t0 = time.perf_counter()
    run = solve(problem)
    total = time.perf_counter() - t0
    built = build_model(problem)
    binaries = sum(len(part.gates) for part in built.s_parts.values())
    solver = run.solver
    objective = run.portfolio.objective
    bound = solver.envelope_bound
    return {
        "touchpoints": touchpoints,
        "journeys": journeys,
        "share": share,
        "s_shaped": len(run.s_shaped),
        "binaries": binaries,
        "rows": solver.constraints,
        "mip_seconds": solver.mip_seconds,
        "solve_seconds": solver.solve_seconds,
        "envelope_seconds": solver.envelope_seconds,
        "total_seconds": total,
        "mip_gap": solver.mip_gap,
        "approximation_gap": solver.approximation_gap,
        "objective": objective,
        "envelope_bound": bound,
        "below_bound": None if bound is None else (bound - objective) / abs(bound),
    }


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] == "--one":
        touchpoints, journeys, share = int(args[1]), int(args[2]), float(args[3])
        print(json.dumps(run_one(touchpoints, journeys, share)))
        return
    sizes = (
        [
            (int(a), int(b), float(c))
            for a, b, c in zip(args[::3], args[1::3], args[2::3], strict=True)
        ]
        if args
        else DEFAULT_SIZES
    )
    rows = []
    for touchpoints, journeys, share in sizes:
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(touchpoints), str(journeys), str(share)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        print(json.dumps(figures), flush=True)
        rows.append(figures)
    print(
        f"{'size':>14} {'S':>5} {'bin':>6} {'rows':>7} {'mip s':>7} {'solve s':>8} "
        f"{'env s':>7} {'total s':>8} {'mip gap':>9} {'approx gap':>10} {'below bound':>11}"
    )
    for f in rows:
        size = f"{f['touchpoints']}x{f['journeys']}"
        print(
            f"{size:>14} {f['s_shaped']:>5} {f['binaries']:>6} {f['rows']:>7} "
            f"{f['mip_seconds']:>7.1f} {f['solve_seconds']:>8.1f} {f['envelope_seconds']:>7.1f} "
            f"{f['total_seconds']:>8.1f} {f['mip_gap']:>9.1e} {f['approximation_gap']:>10.1e} "
            f"{f['below_bound']:>11.1e}"
        )


if __name__ == "__main__":
    main()
