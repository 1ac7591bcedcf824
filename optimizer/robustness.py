"""How sure are we? The optimum, silo and current allocations under perturbed curves.

Response curves are estimates. Each sample scales every touchpoint's quality gain over
its zero-spend quality by a factor drawn uniformly from [1 - spread, 1 + spread]:

    q'_t(x) = min(1, q_t(x) + (f_t - 1) * (q_t(x) - q_t(0)))

(concave and nondecreasing like the original; f_t = 1 gives q_t exactly), then values
the three fixed allocations with the run's formula (dependencies, weakest links). Seeded
(numpy's PCG64): the same seed gives the same numbers. Samples are evaluated in blocks,
vectorized across samples.
"""

from collections.abc import Callable, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from optimizer.baselines import current_allocation, silo_allocation
from optimizer.evaluate import Structure
from optimizer.objective import objective_for
from optimizer.problem import PortfolioProblem
from optimizer.result import RunResult

BLOCK = 256


class Spread(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    nominal: float
    """Weighted value on the curves as given."""
    mean: float
    p10: float
    p50: float
    p90: float


class RobustnessResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = "journeyfolio-robustness/v1"
    portfolio_id: str
    scenario_id: str | None
    currency: str
    samples: int
    spread: float
    seed: int
    optimum: Spread
    silo: Spread
    current: Spread
    optimum_beats_silo: float
    """Share of samples in which the optimal allocation is worth more than the silo one."""
    optimum_beats_current: float


def _spread(nominal: float, values: np.ndarray) -> Spread:
    p10, p50, p90 = np.percentile(values, [10, 50, 90])
    return Spread(
        nominal=nominal, mean=float(values.mean()), p10=float(p10), p50=float(p50), p90=float(p90)
    )


def robustness(
    problem: PortfolioProblem,
    run: RunResult,
    *,
    samples: int = 500,
    spread: float = 0.2,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> RobustnessResult:
    """Value spread of the optimal (from `run`), silo and current allocations when every
    curve's gain is off by up to `spread` (a fraction, 0.2 = +-20 %)."""
    if run.status != "optimal":
        raise ValueError("robustness needs an optimal run (this scenario is infeasible)")
    if samples < 1 or not 0 <= spread < 1:
        raise ValueError("samples must be >= 1 and spread in [0, 1)")
    structure = Structure.of(problem)
    optimum = [t.spend for t in run.touchpoints]
    allocations: Sequence[list[float]] = (
        optimum,
        silo_allocation(
            problem.with_budget(sum(optimum))
            if objective_for(problem.mode).silo_gets_optimum_spend
            else problem
        ),
        current_allocation(problem),
    )
    nominal = structure.curves.evaluate(np.array(allocations))  # (3, touchpoints)
    gains = nominal - structure.curves.evaluate(np.zeros(len(problem.touchpoints)))

    def weighted_values(curve_qualities: np.ndarray) -> np.ndarray:
        values: np.ndarray = structure.experiences(curve_qualities)[1] @ structure.weights
        return values

    rng = np.random.default_rng(seed)
    results: list[list[np.ndarray]] = [[], [], []]
    done = 0
    while done < samples:
        block = min(BLOCK, samples - done)
        factors = rng.uniform(1 - spread, 1 + spread, size=(block, len(problem.touchpoints)))
        for k in range(3):
            curve_q = np.minimum(1.0, nominal[k] + (factors - 1.0) * gains[k])
            results[k].append(weighted_values(curve_q))
        done += block
        if progress is not None:
            progress(block)
    opt, silo, cur = (np.concatenate(r) for r in results)
    nominal_values = [float(v) for v in weighted_values(nominal)]
    return RobustnessResult(
        portfolio_id=problem.portfolio_id,
        scenario_id=problem.scenario_id,
        currency=problem.currency,
        samples=samples,
        spread=spread,
        seed=seed,
        optimum=_spread(nominal_values[0], opt),
        silo=_spread(nominal_values[1], silo),
        current=_spread(nominal_values[2], cur),
        optimum_beats_silo=float(np.mean(opt > silo)),
        optimum_beats_current=float(np.mean(opt > cur)),
    )
