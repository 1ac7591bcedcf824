"""How sure a curve is, as a band of quality around it (issue 11, "curves from evidence").

A curve whose `source.uncertainty` (optimizer/document.py `Uncertainty`) says how sure its
evidence is gets a band: at each spend of a grid, the `level` interval of the quality that
curves drawn from that uncertainty give.

- `covariance` (a least-squares fit, optimizer/fit.py): `draws` parameter vectors theta are
  drawn from the normal distribution with the curve's own parameters as mean and that
  covariance (rate and shape on a log scale, as `parameters` names them: ``log_half_spend``
  ...), jointly, because the parameters of one curve are strongly correlated (a higher max
  goes with a larger half_spend). The covariance is factored through its eigenvalues, those
  below zero (rounding of a nearly singular fit) set to zero.
- `draws` (bootstrap, an MMM posterior): the given draws themselves.
- `band` (an MMM's interval of a `points` curve): interpolated at the grid's spends.

A drawn curve is evaluated exactly (optimizer/curves.py `Params`) with its parameters as
drawn, and its quality then kept to 0..1 (a quality has no other values). The parameters are
not clipped: base and max are strongly correlated with the rate, and a draw with a base
below 0 comes with a rate that keeps the curve near the data; clipping the base alone would
throw such a curve far off the data it was fitted to. The band is the pointwise
quantile interval of the drawn qualities, ((1 - level) / 2, (1 + level) / 2). Because the
curve is not linear in its parameters, the curve itself need not be the centre of the
draws: where it would fall outside the interval (a nearly certain curve, whose interval is
narrower than the quantiles' sampling noise), the band is widened to reach it, so the band
always contains the curve it belongs to (low <= curve <= high at every spend).

Draws are seeded (numpy's PCG64): the same curve, grid and seed give the same band.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final, Literal

import numpy as np

from optimizer.curves import FORM_CODES, Params, evaluate
from optimizer.document import Curve as DocumentCurve
from optimizer.problem import problem_curve

DRAWS: Final = 4_000
"""Parameter draws for a covariance: the 5 % and 95 % quantiles then move by about
0.7 % of the band's width between seeds."""
LEVEL: Final = 0.9
GRID_POINTS: Final = 61

BandKind = Literal["covariance", "draws", "band", "none"]

_RATE: Final = {"saturating": "half_spend", "hill": "half_spend", "exponential": "scale"}


class BandError(ValueError):
    """A curve's uncertainty that cannot be turned into a band (says why)."""


@dataclass(frozen=True)
class Band:
    """Quality at each spend: the curve itself and the interval around it."""

    spend: list[float]
    curve: list[float]
    low: list[float]
    high: list[float]
    level: float
    kind: BandKind
    """Where the band comes from: the curve's covariance, its draws, its own band, or
    `none` (a curve without uncertainty: low = high = the curve)."""
    draws: int
    """Curves drawn (0 for `band` and `none`)."""

    @property
    def width(self) -> list[float]:
        return [h - lo for lo, h in zip(self.low, self.high, strict=True)]


def spend_grid(top: float, points: int = GRID_POINTS) -> list[float]:
    """`points` spends from 0 to `top`, evenly spaced."""
    if not (math.isfinite(top) and top > 0):
        raise BandError(f"the grid needs a positive largest spend, not {top:g}")
    if points < 2:
        raise BandError(f"the grid needs at least 2 spends, not {points}")
    return [float(x) for x in np.linspace(0.0, top, points)]


def _form_values(curve: DocumentCurve) -> tuple[str, dict[str, float]]:
    form = curve.form
    body = getattr(curve, form)
    if form == "points":
        return form, {}
    values = {name: float(value) for name, value in body.model_dump().items()}
    return form, values


def _theta_mean(parameters: Sequence[str], values: dict[str, float]) -> np.ndarray:
    mean = []
    for name in parameters:
        plain = name.removeprefix("log_")
        if plain not in values:
            raise BandError(
                f"source.uncertainty.parameters names '{name}', which the curve does not have "
                f"(it has {', '.join(sorted(values))})"
            )
        value = values[plain]
        if name.startswith("log_"):
            if value <= 0:
                raise BandError(f"'{name}': the curve's {plain} {value:g} has no logarithm")
            value = math.log(value)
        mean.append(value)
    return np.array(mean, dtype=float)


def _drawn_params(
    form: str, values: dict[str, float], parameters: Sequence[str], theta: np.ndarray
) -> Params:
    """One formula curve per row of theta; parameters theta does not name keep the curve's
    value."""
    count = theta.shape[0]
    columns: dict[str, np.ndarray] = {}
    for name, value in values.items():
        columns[name] = np.full(count, value)
    for j, name in enumerate(parameters):
        plain = name.removeprefix("log_")
        column = theta[:, j]
        if name.startswith("log_"):
            # exp of a wild draw overflows to inf; keep it a (huge) finite number
            column = np.exp(np.clip(column, -700.0, 700.0))
        columns[plain] = column
    base, top = columns["base"], columns["max"]
    rate = columns["lam"] if form == "logistic" else columns[_RATE[form]]
    shape = columns["shape"] if form == "hill" else np.ones(count)
    return Params(np.full(count, FORM_CODES[form], dtype=int), base, top - base, rate, shape)


def _normal_draws(
    mean: np.ndarray, covariance: np.ndarray, draws: int, rng: np.random.Generator
) -> np.ndarray:
    eigenvalues, vectors = np.linalg.eigh((covariance + covariance.T) / 2)
    root = vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
    standard = rng.standard_normal((draws, mean.size))
    drawn: np.ndarray = mean + standard @ root.T
    return drawn


def curve_band(
    curve: DocumentCurve,
    spends: Sequence[float],
    *,
    draws: int = DRAWS,
    level: float = LEVEL,
    seed: int = 0,
) -> Band:
    """The curve and its `level` band at `spends` (see the module docstring).

    Parameters
    ----------
    curve
        A curve of the document; its `source.uncertainty`, if any, makes the band.
    spends
        Where to evaluate (spends >= 0).
    draws
        Parameter vectors drawn from a covariance (given draws are used as they are).
    level
        The central share of the drawn qualities inside the band, in (0, 1).
    seed
        Seeds the draws.

    Raises
    ------
    BandError
        When the uncertainty names parameters the curve does not have, or the inputs are
        out of range.
    """
    if not 0 < level < 1:
        raise BandError(f"level must be in (0, 1), not {level:g}")
    if draws < 2:
        raise BandError(f"draws must be at least 2, not {draws}")
    x = np.asarray(spends, dtype=float)
    if x.ndim != 1 or not np.all(np.isfinite(x)) or np.any(x < 0):
        raise BandError("spends must be finite numbers >= 0")
    exact = problem_curve(curve)
    fitted = np.array([evaluate(exact, float(s)) for s in x])
    uncertainty = curve.source.uncertainty if curve.source is not None else None
    if uncertainty is None:
        same = fitted.tolist()
        return Band(x.tolist(), same, same, same, level, "none", 0)
    if uncertainty.band is not None:
        table = np.array(uncertainty.band, dtype=float)
        low = np.interp(x, table[:, 0], table[:, 1])
        high = np.interp(x, table[:, 0], table[:, 2])
        return _band(x, fitted, low, high, level, "band", 0)
    form, values = _form_values(curve)
    if form == "points":
        raise BandError(
            "a points curve has no parameters to draw: its uncertainty must be a 'band'"
        )
    parameters = uncertainty.parameters
    kind: BandKind
    if uncertainty.covariance is not None:
        mean = _theta_mean(parameters, values)
        rng = np.random.default_rng(seed)
        theta = _normal_draws(mean, np.array(uncertainty.covariance, dtype=float), draws, rng)
        kind = "covariance"
    else:
        assert uncertainty.draws is not None
        _theta_mean(parameters, values)  # the names must be the curve's
        theta = np.array(uncertainty.draws, dtype=float)
        kind = "draws"
    drawn = _drawn_params(form, values, parameters, theta)
    with np.errstate(over="ignore", invalid="ignore"):
        qualities = drawn.value(x[:, None])  # spends x draws
    qualities = np.clip(np.nan_to_num(qualities, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    tail = (1 - level) / 2
    low, high = np.quantile(qualities, [tail, 1 - tail], axis=1)
    return _band(x, fitted, low, high, level, kind, theta.shape[0])


def linear_band(
    curve: DocumentCurve, spends: Sequence[float], *, level: float = LEVEL
) -> tuple[list[float], list[float]] | None:
    """The band the covariance gives to first order (the delta method): q(x) -+ z sd(x),
    sd(x)^2 = g(x)' C g(x), g the gradient of q in theta (central differences). None when
    the curve's uncertainty is no covariance. Beside `curve_band` it tells how far the
    normal approximation holds: where the drawn band is much wider than this one, the data
    do not determine the parameters well (the draws follow the covariance off the ridge of
    curves that fit)."""
    if not 0 < level < 1:
        raise BandError(f"level must be in (0, 1), not {level:g}")
    uncertainty = curve.source.uncertainty if curve.source is not None else None
    if uncertainty is None or uncertainty.covariance is None:
        return None
    form, values = _form_values(curve)
    if form == "points":
        return None
    parameters = uncertainty.parameters
    mean = _theta_mean(parameters, values)
    x = np.asarray(spends, dtype=float)
    steps = 1e-6 * np.maximum(1.0, np.abs(mean))
    shifted = np.concatenate([mean + np.diag(steps), mean - np.diag(steps)])
    with np.errstate(over="ignore", invalid="ignore"):
        q = _drawn_params(form, values, parameters, shifted).value(x[:, None])
    k = mean.size
    gradient = (q[:, :k] - q[:, k:]) / (2 * steps)  # spends x parameters
    covariance = np.array(uncertainty.covariance, dtype=float)
    sd = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", gradient, covariance, gradient), 0, None))
    z = NormalDist().inv_cdf((1 + level) / 2)
    fitted = np.array([evaluate(problem_curve(curve), float(s)) for s in x])
    return (fitted - z * sd).tolist(), (fitted + z * sd).tolist()


def stray(curve: DocumentCurve, spends: Sequence[float], *, seed: int = 0) -> float | None:
    """How much wider the drawn band is than the linear one at `spends` (the median ratio of
    their widths; about 1 where the normal approximation holds), or None without a
    covariance (or where the linear band has no width)."""
    linear = linear_band(curve, spends)
    if linear is None:
        return None
    narrow = np.array(linear[1]) - np.array(linear[0])
    drawn = np.array(curve_band(curve, spends, seed=seed).width)
    keep = narrow > 1e-12
    if not keep.any():
        return None
    return float(np.median(drawn[keep] / narrow[keep]))


def _band(
    x: np.ndarray,
    fitted: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    level: float,
    kind: BandKind,
    draws: int,
) -> Band:
    low = np.minimum(low, fitted)
    high = np.maximum(high, fitted)
    return Band(x.tolist(), fitted.tolist(), low.tolist(), high.tolist(), level, kind, int(draws))
