"""How sure are we? The optimum, silo and current allocations under perturbed curves.

Response curves are estimates. Each sample scales every touchpoint's quality gain over
its zero-spend quality by a factor drawn uniformly from [1 - spread, 1 + spread]:

    q'_t(x) = min(1, q_t(x) + (f_t - 1) * (q_t(x) - q_t(0)))

(concave and nondecreasing like the original; f_t = 1 gives q_t exactly), then values
the three fixed allocations with the run's formula (dependencies, weakest links). Seeded
(numpy's PCG64): the same seed gives the same numbers. Samples are evaluated in blocks,
vectorized across samples.

A curve with evidence (`source.uncertainty` in the document, passed as `evidence`) is drawn
from it instead, its parameters jointly (DOMAIN.md "Where curves come from"):

- `covariance`: theta ~ N(theta_hat, covariance), theta_hat the curve's own parameters
  (base, max, rates and shapes as named, ``log_<name>`` on a log scale);
- `draws`: one of the draws of theta, picked uniformly per sample;
- `band`: one quantile u ~ U(0, 1) per sample shared by all spends of the curve, the quality
  linear from `low` (u = 0) through the curve itself (u = 1/2) to `high` (u = 1),
  `low`/`high` interpolated between the band's spends (flat beyond).

A drawn curve's base and max are clipped to 0..1 (a gain below 0 to 0) and its qualities to
0..1. The uniform factors are drawn exactly as without evidence (their stream is untouched;
evidence has its own, seeded from the same seed), so a portfolio without evidence gives the
numbers it always gave.
"""

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from optimizer.baselines import current_allocation, silo_allocation
from optimizer.curves import FORM_CODES, Params
from optimizer.document import Uncertainty
from optimizer.evaluate import Structure
from optimizer.objective import objective_for
from optimizer.problem import Curve, PortfolioProblem
from optimizer.result import RunResult

if TYPE_CHECKING:
    from optimizer.document import PortfolioDocument

BLOCK = 256
Method = Literal["covariance", "draws", "band", "uniform"]
METHODS: Final[tuple[Method, ...]] = ("covariance", "draws", "band", "uniform")
FORM_PARAMETERS: Final[dict[str, tuple[str, ...]]] = {
    "saturating": ("base", "max", "half_spend"),
    "hill": ("base", "max", "half_spend", "shape"),
    "exponential": ("base", "max", "scale"),
    "logistic": ("base", "max", "lam"),
    "points": (),
}


def no_methods() -> dict[str, list[str]]:
    return {str(m): [] for m in METHODS}


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
    methods: dict[str, list[str]] = Field(default_factory=lambda: no_methods())
    """Touchpoint ids by how their curve was perturbed: drawn from a covariance, from draws,
    within a band, or by the uniform spread (no evidence)."""


def _spread(nominal: float, values: np.ndarray) -> Spread:
    p10, p50, p90 = np.percentile(values, [10, 50, 90])
    return Spread(
        nominal=nominal, mean=float(values.mean()), p10=float(p10), p50=float(p50), p90=float(p90)
    )


def evidence_of(doc: "PortfolioDocument") -> dict[str, Uncertainty]:
    """The uncertainty each touchpoint's curve carries in the document, by touchpoint id."""
    return {
        tp.id: tp.curve.source.uncertainty
        for tp in doc.touchpoints
        if tp.curve.source is not None and tp.curve.source.uncertainty is not None
    }


def method_of(uncertainty: Uncertainty) -> Method:
    if uncertainty.covariance is not None:
        return "covariance"
    if uncertainty.draws is not None:
        return "draws"
    return "band"


def curve_value(curve: Curve, name: str) -> float:
    """A curve's parameter by its document name (`max` is the top; `log_` names the log)."""
    plain = name.removeprefix("log_")
    value = float(curve.top if plain == "max" else getattr(curve, plain))
    return math.log(value) if name.startswith("log_") else value


def check_evidence(touchpoint: str, curve: Curve, uncertainty: Uncertainty) -> None:
    """Raise ValueError (naming the touchpoint) when the evidence cannot be drawn from."""
    where = f"touchpoint '{touchpoint}': curve.source.uncertainty"
    if uncertainty.band is not None:
        return
    known = FORM_PARAMETERS[curve.form]
    for name in uncertainty.parameters:
        if name.removeprefix("log_") not in known:
            allowed = ", ".join(known) or "none (give a band)"
            raise ValueError(
                f"{where}.parameters: '{name}' is not a parameter of its {curve.form} curve "
                f"(its parameters: {allowed})"
            )
        if name.startswith("log_") and name in ("log_base", "log_max"):
            raise ValueError(f"{where}.parameters: '{name}': base and max are not on a log scale")
    if uncertainty.covariance is not None:
        eigenvalues = np.linalg.eigvalsh(np.array(uncertainty.covariance))
        if eigenvalues.min() < -1e-9 * max(1.0, float(np.abs(eigenvalues).max())):
            raise ValueError(
                f"{where}.covariance: not positive semidefinite (eigenvalue "
                f"{eigenvalues.min():.3g}): not a covariance"
            )


def draw_theta(
    uncertainty: Uncertainty, mean: np.ndarray, rng: np.random.Generator, size: int
) -> np.ndarray:
    """`size` joint draws of theta (size, parameters): normal around `mean` with the
    covariance, or picks among the draws."""
    if uncertainty.covariance is not None:
        draws: np.ndarray = rng.multivariate_normal(
            mean, np.array(uncertainty.covariance), size=size, method="eigh", check_valid="ignore"
        )
        return draws
    assert uncertainty.draws is not None
    table = np.array(uncertainty.draws, dtype=float)
    picked: np.ndarray = table[rng.integers(0, len(table), size=size)]
    return picked


def curve_qualities(
    curve: Curve, names: Sequence[str], theta: np.ndarray, spends: np.ndarray
) -> np.ndarray:
    """Qualities (spends, draws) of the curve with its named parameters set to each row of
    theta (draws, parameters)."""
    size = theta.shape[0]
    values = {
        "base": np.full(size, curve.base),
        "max": np.full(size, curve.top),
        "rate": np.full(size, curve.lam if curve.form == "logistic" else 0.0),
        "shape": np.full(size, curve.shape),
    }
    if curve.form == "exponential":
        values["rate"][:] = curve.scale
    elif curve.form in ("saturating", "hill"):
        values["rate"][:] = curve.half_spend
    for k, name in enumerate(names):
        plain = name.removeprefix("log_")
        column = np.exp(theta[:, k]) if name.startswith("log_") else theta[:, k]
        values[plain if plain in ("base", "max", "shape") else "rate"] = column
    base = np.clip(values["base"], 0.0, 1.0)
    top = np.clip(values["max"], 0.0, 1.0)
    tiny = np.finfo(float).tiny
    params = Params(
        np.full(size, FORM_CODES[curve.form]),
        base,
        np.maximum(top - base, 0.0),
        np.maximum(values["rate"], tiny),
        np.maximum(values["shape"], tiny),
    )
    quality: np.ndarray = np.clip(params.value(np.asarray(spends, dtype=float)[:, None]), 0, 1)
    return quality


def band_qualities(
    band: Sequence[tuple[float, float, float]],
    nominal: np.ndarray,
    spends: np.ndarray,
    quantile: np.ndarray,
) -> np.ndarray:
    """Qualities (spends, draws): from low (quantile 0) through the curve (1/2) to high (1)."""
    points = np.array(band, dtype=float)
    low = np.minimum(np.interp(spends, points[:, 0], points[:, 1]), nominal)[:, None]
    high = np.maximum(np.interp(spends, points[:, 0], points[:, 2]), nominal)[:, None]
    mid = nominal[:, None]
    u = quantile[None, :]
    quality: np.ndarray = np.where(
        u < 0.5, mid - (1 - 2 * u) * (mid - low), mid + (2 * u - 1) * (high - mid)
    )
    clipped: np.ndarray = np.clip(quality, 0.0, 1.0)
    return clipped


def robustness(
    problem: PortfolioProblem,
    run: RunResult,
    *,
    samples: int = 500,
    spread: float = 0.2,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
    evidence: Mapping[str, Uncertainty] | None = None,
) -> RobustnessResult:
    """Value spread of the optimal (from `run`), silo and current allocations when every
    curve's gain is off by up to `spread` (a fraction, 0.2 = +-20 %), or, for a touchpoint
    in `evidence` (id -> its curve's uncertainty, `evidence_of(doc)`), drawn from it."""
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

    methods = no_methods()
    drawn: list[tuple[int, Curve, Uncertainty, np.ndarray]] = []
    evidence = evidence or {}
    spends_of = np.array(allocations, dtype=float)  # (3, touchpoints)
    for t, tp in enumerate(problem.touchpoints):
        uncertainty = evidence.get(tp.id)
        if uncertainty is None:
            methods["uniform"].append(tp.id)
            continue
        check_evidence(tp.id, tp.curve, uncertainty)
        methods[method_of(uncertainty)].append(tp.id)
        mean = np.array([curve_value(tp.curve, n) for n in uncertainty.parameters])
        drawn.append((t, tp.curve, uncertainty, mean))

    rng = np.random.default_rng(seed)
    evidence_rng = np.random.default_rng([seed, 1])
    results: list[list[np.ndarray]] = [[], [], []]
    done = 0
    while done < samples:
        block = min(BLOCK, samples - done)
        factors = rng.uniform(1 - spread, 1 + spread, size=(block, len(problem.touchpoints)))
        sampled: list[tuple[int, np.ndarray]] = []  # (touchpoint, qualities (3, block))
        for t, curve, uncertainty, mean in drawn:
            if uncertainty.band is not None:
                u = evidence_rng.uniform(0.0, 1.0, size=block)
                q = band_qualities(uncertainty.band, nominal[:, t], spends_of[:, t], u)
            else:
                theta = draw_theta(uncertainty, mean, evidence_rng, block)
                q = curve_qualities(curve, uncertainty.parameters, theta, spends_of[:, t])
            sampled.append((t, q))
        for k in range(3):
            curve_q = np.minimum(1.0, nominal[k] + (factors - 1.0) * gains[k])
            for t, q in sampled:
                curve_q[:, t] = q[k]
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
        methods=methods,
    )
