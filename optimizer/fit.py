"""Response curves fitted to observations (issue 11, DOMAIN.md "Where curves come from").

Observations are rows of (period, spend, outcome). With the outcome values that mean quality
0 and 1 the outcome becomes a quality, q = (outcome - outcome_at_0) / (outcome_at_1 -
outcome_at_0); without them the outcome is read as a quality already.

Each form (optimizer/curves.py, portfolio-format.md) is fitted by bounded least squares
(scipy.optimize.least_squares, trust region reflective) on the parameter vector

    theta = (base, max, log rate[, log shape])

rate being half_spend (saturating, hill), scale (exponential) or lam (logistic): the spend
scale lives on a log scale, so the fit is indifferent to the currency's size and the
covariance (sigma^2 (J'J)^-1 from the Jacobian at the optimum, sigma^2 = RSS / (n - p)) is
on the log parameters. Standard errors of rate and shape follow by the delta method
(se = value * se_log). With fewer than `FEW_POINTS` observations, or a degenerate covariance,
the uncertainty comes from a residual bootstrap instead (`bootstrap`: seeded refits, their
draws of theta written into the curve). `auto` fits every concave form and keeps the smallest AICc,

    AICc = n ln(RSS / n) + 2k + 2k(k + 1) / (n - k - 1),  k = parameters + 1 (the noise).

A hill curve's shape is kept to (0, 1] (concave) unless S-shaped curves are asked for; a
fitted shape above 1 is then refused, as the document refuses it, until issue 11 item 2
solves S-shaped curves.

Data that cannot support a curve raise `FitError` and no curve is given: fewer than
`MIN_POINTS` rows, spend that does not vary, outcomes that do not rise with spend, and a
curve whose half rise lies beyond `SATURATION_REACH` times the largest observed spend, or
beyond it with max pressed against quality 1 (the data do not show where it saturates).
"""

import csv
import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import spearmanr

from optimizer.curves import Params

FitForm = Literal["saturating", "hill", "exponential", "logistic"]
FORMS: Final[tuple[FitForm, ...]] = ("saturating", "hill", "exponential", "logistic")
RATE_NAME: Final[dict[str, str]] = {
    "saturating": "half_spend",
    "hill": "half_spend",
    "exponential": "scale",
    "logistic": "lam",
}
MIN_POINTS = 5
"""Fewer observations than this support no curve (a form has up to 4 parameters)."""
FEW_POINTS = 15
"""Below this many observations the uncertainty is rough (said in the warnings) and comes
from a bootstrap rather than the Jacobian."""
BOOTSTRAP_SAMPLES: Final = 200
BOOTSTRAP_SEED: Final = 20261204
SATURATION_REACH = 3.0
"""A fitted half rise beyond this multiple of the largest observed spend is not in the data."""
MAX_SHAPE_CONCAVE = 1.0
MAX_SHAPE_S = 5.0
MIN_SHAPE = 0.1


class FitError(ValueError):
    """Observations that cannot support a curve, or a file that cannot be read."""


@dataclass(frozen=True)
class Observations:
    spend: np.ndarray
    quality: np.ndarray
    periods: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return len(self.spend)


@dataclass(frozen=True)
class Fit:
    form: FitForm
    parameters: dict[str, float]
    """base, max and the form's own (half_spend, scale, lam; shape)."""
    standard_errors: dict[str, float]
    log_parameters: tuple[str, ...]
    """Names of theta: base, max, log_<rate>[, log_shape]."""
    covariance: list[list[float]]
    """Covariance of theta (on the log parameters)."""
    r2: float
    rmse: float
    n: int
    aicc: float
    warnings: list[str] = field(default_factory=list)
    compared: dict[str, float] = field(default_factory=dict)
    """AICc of every form tried (auto), smaller is better."""
    degenerate: bool = False
    """The Jacobian does not identify the parameters separately (J'J near singular)."""
    method: Literal["covariance", "bootstrap"] = "covariance"
    """Where the uncertainty comes from: the Jacobian, or bootstrap refits (`draws`)."""
    draws: list[list[float]] | None = None
    """Bootstrap draws of theta (method bootstrap)."""

    def curve(self, date: str | None = None) -> dict[str, Any]:
        """A curve object of the document, with its source: the uncertainty is the
        covariance of theta, or the bootstrap draws of theta."""
        uncertainty: dict[str, Any] = {"parameters": list(self.log_parameters)}
        if self.draws is not None:
            uncertainty["draws"] = [[_round(v) for v in draw] for draw in self.draws]
        else:
            uncertainty["covariance"] = self.covariance
        return {
            self.form: {k: _round(v) for k, v in self.parameters.items()},
            "source": {
                "kind": "fit",
                "date": date or datetime.date.today().isoformat(),
                "n": self.n,
                "uncertainty": uncertainty,
            },
        }

    def to_data(self, date: str | None = None) -> dict[str, Any]:
        return {
            "form": self.form,
            "curve": self.curve(date),
            "r2": self.r2,
            "rmse": self.rmse,
            "n": self.n,
            "aicc": self.aicc,
            "uncertainty": {
                "method": self.method,
                "samples": len(self.draws or []),
                "standard_errors": self.standard_errors,
                "parameters": list(self.log_parameters),
                "covariance": self.covariance,
            },
            "compared": self.compared,
            "warnings": self.warnings,
        }


def _round(value: float) -> float:
    return float(f"{value:.6g}")


# --------------------------------------------------------------------------- reading


def read_csv(
    path: Path | str,
    *,
    outcome_at_0: float | None = None,
    outcome_at_1: float | None = None,
) -> Observations:
    """Rows `period,spend,outcome` (a header line first); problems name the row (the line
    of the file) and the column."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise FitError(f"cannot read {path}: {error}") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None:
        raise FitError(f"{path}: empty file; expected the columns period,spend,outcome")
    columns = [h.strip().lower() for h in header]
    missing = [c for c in ("period", "spend", "outcome") if c not in columns]
    if missing:
        raise FitError(
            f"{path}: line 1: missing column {', '.join(repr(m) for m in missing)} "
            f"(found {', '.join(repr(c) for c in columns)}; expected period,spend,outcome)"
        )
    where = {c: columns.index(c) for c in ("period", "spend", "outcome")}
    periods: list[str] = []
    spends: list[float] = []
    outcomes: list[float] = []
    problems: list[str] = []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            problems.append(f"line {line}: {len(row)} cells, the header has {len(columns)}")
            continue
        period = row[where["period"]].strip()
        if not period:
            problems.append(f"line {line}, column period: empty")
        values: dict[str, float] = {}
        for column in ("spend", "outcome"):
            cell = row[where[column]].strip()
            try:
                value = float(cell)
            except ValueError:
                problems.append(f"line {line}, column {column}: {cell!r} is not a number")
                continue
            if not math.isfinite(value):
                problems.append(f"line {line}, column {column}: {cell!r} is not a finite number")
            elif column == "spend" and value < 0:
                problems.append(f"line {line}, column spend: {value:g} is negative")
            else:
                values[column] = value
        if len(values) == 2 and period:
            periods.append(period)
            spends.append(values["spend"])
            outcomes.append(values["outcome"])
    if problems:
        raise FitError("\n".join(f"{path}: {p}" for p in problems))
    return observations(spends, outcomes, outcome_at_0, outcome_at_1, periods)


def observations(
    spends: Sequence[float],
    outcomes: Sequence[float],
    outcome_at_0: float | None = None,
    outcome_at_1: float | None = None,
    periods: Sequence[str] = (),
) -> Observations:
    """Outcomes turned into qualities (unchanged without the two outcome values)."""
    if (outcome_at_0 is None) != (outcome_at_1 is None):
        raise FitError("give both --outcome-at-0 and --outcome-at-1, or neither")
    y = np.asarray(outcomes, dtype=float)
    if outcome_at_0 is not None and outcome_at_1 is not None:
        if outcome_at_0 == outcome_at_1:
            raise FitError("--outcome-at-0 and --outcome-at-1 must differ")
        y = (y - outcome_at_0) / (outcome_at_1 - outcome_at_0)
    return Observations(np.asarray(spends, dtype=float), y, tuple(periods))


# --------------------------------------------------------------------------- fitting


def _params(form: FitForm, theta: np.ndarray) -> Params:
    base, top = theta[0], theta[1]
    shape = math.exp(theta[3]) if form == "hill" else 1.0
    return Params(
        np.array([{"saturating": 0, "hill": 1, "exponential": 2, "logistic": 3}[form]]),
        np.array([base]),
        np.array([top - base]),
        np.array([math.exp(theta[2])]),
        np.array([shape]),
    )


def _model(form: FitForm, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return _params(form, theta).value(x[:, None])[:, 0]


def half_rise(form: FitForm, parameters: dict[str, float]) -> float:
    """The spend where the curve has risen half of the way from base to max."""
    if form == "exponential":
        return parameters["scale"] * math.log(2)
    if form == "logistic":
        return math.log(3) / parameters["lam"]
    return parameters["half_spend"]


def check_data(data: Observations) -> None:
    """Refuse data that cannot support a curve (FitError, with what is wrong)."""
    if data.n < MIN_POINTS:
        raise FitError(
            f"{data.n} observation{'s' if data.n != 1 else ''}: a curve needs at least {MIN_POINTS}"
        )
    distinct = np.unique(data.spend).size
    if distinct == 1:
        raise FitError(
            f"no variation in spend: every observation spends {data.spend[0]:g}, "
            "so nothing shows how the outcome responds to spend"
        )
    if distinct < 3:
        raise FitError(
            f"spend takes only {distinct} distinct values: a curve needs at least 3 "
            "to show its bend"
        )
    if np.ptp(data.quality) == 0:
        raise FitError("no variation in the outcome: it does not respond to spend")
    rho = float(spearmanr(data.spend, data.quality).statistic)
    if not rho > 0:
        raise FitError(
            f"outcomes fall with spend (rank correlation {rho:.2f}): a response curve "
            "rises with spend; check the outcome's direction (--outcome-at-0/--outcome-at-1)"
        )


def _bounds(
    form: FitForm, data: Observations, *, s_shaped: bool
) -> tuple[list[float], list[float]]:
    """Bounds of theta: the rate from far below the smallest spend to far beyond the largest."""
    x = data.spend
    positive = x[x > 0]
    x_max = float(x.max())
    x_small = float(positive.min()) if positive.size else x_max
    if form == "logistic":
        rate_lo, rate_hi = math.log(1e-3 / x_max), math.log(1e3 / x_small)
    else:
        rate_lo, rate_hi = math.log(x_small * 1e-3), math.log(x_max * 1e3)
    lower = [0.0, 0.0, rate_lo]
    upper = [1.0, 1.0, rate_hi]
    if form == "hill":
        lower.append(math.log(MIN_SHAPE))
        upper.append(math.log(MAX_SHAPE_S if s_shaped else MAX_SHAPE_CONCAVE))
    return lower, upper


def fit_form(data: Observations, form: FitForm, *, s_shaped: bool = False) -> Fit:
    """Least squares fit of one form (see the module docstring)."""
    x, y = data.spend, data.quality
    positive = x[x > 0]
    x_max = float(x.max())
    x_small = float(positive.min()) if positive.size else x_max
    lower, upper = _bounds(form, data, s_shaped=s_shaped)
    if form == "logistic":
        starts = [math.log(c / x_max) for c in (0.5, 2.0, 6.0)]
    else:
        starts = [math.log(c * x_max) for c in (0.1, 0.4, 1.5)]
    low_q = float(np.clip(y[np.argsort(x)][: max(1, data.n // 5)].mean(), 0, 1))
    high_q = float(np.clip(y.max(), 0, 1))
    shapes = [0.0]
    if form == "hill":
        top_shape = MAX_SHAPE_S if s_shaped else MAX_SHAPE_CONCAVE
        shapes = [math.log(0.6), math.log(min(top_shape, 1.0))] + (
            [math.log(2.0)] if s_shaped else []
        )
    best = None
    for rate in starts:
        for shape in shapes:
            theta0 = [min(low_q, high_q) * 0.9, max(high_q, low_q), rate]
            if form == "hill":
                theta0.append(shape)
            theta0 = list(np.clip(theta0, np.array(lower) + 1e-9, np.array(upper) - 1e-9))
            result = least_squares(
                lambda theta: _model(form, theta, x) - y,
                np.array(theta0),
                bounds=(lower, upper),
                method="trf",
                x_scale="jac",
                max_nfev=2000,
            )
            if best is None or result.cost < best.cost:
                best = result
    assert best is not None
    theta = best.x
    residuals = best.fun
    rss = float(residuals @ residuals)
    n, p = data.n, theta.size
    names = ["base", "max", f"log_{RATE_NAME[form]}"] + (["log_shape"] if form == "hill" else [])
    parameters = {"base": float(theta[0]), "max": float(theta[1])}
    parameters[RATE_NAME[form]] = math.exp(theta[2])
    if form == "hill":
        parameters["shape"] = math.exp(theta[3])
    warnings: list[str] = []
    if parameters["base"] > parameters["max"]:
        raise FitError(
            f"the best {form} curve falls with spend (base {parameters['base']:.3g} above "
            f"max {parameters['max']:.3g}): the data do not show a rising response"
        )
    # covariance on theta (the log parameters) from the Jacobian at the optimum
    jac = np.asarray(best.jac, dtype=float)
    sigma2 = rss / max(n - p, 1)
    jtj = jac.T @ jac
    degenerate = bool(n - p <= 0 or np.linalg.cond(jtj) > 1e12)
    if degenerate:
        warnings.append(
            "the parameters are not identified separately by these data (degenerate "
            "covariance): treat the standard errors as unknown"
        )
    covariance = sigma2 * np.linalg.pinv(jtj)
    se_theta = np.sqrt(np.clip(np.diag(covariance), 0, None))
    standard_errors = {"base": float(se_theta[0]), "max": float(se_theta[1])}
    standard_errors[RATE_NAME[form]] = parameters[RATE_NAME[form]] * float(se_theta[2])
    if form == "hill":
        standard_errors["shape"] = parameters["shape"] * float(se_theta[3])
    tss = float(((y - y.mean()) ** 2).sum())
    r2 = 1 - rss / tss if tss > 0 else 0.0
    k = p + 1
    aicc = (
        n * math.log(max(rss, 1e-300) / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)
        if n - k - 1 > 0
        else math.inf
    )
    reach = half_rise(form, parameters)
    # max pressed against quality 1 means the data would have the curve rise further
    topless = parameters["max"] > 1 - 1e-6 and reach > x_max
    if reach > SATURATION_REACH * x_max or topless:
        raise FitError(
            f"the data do not show where it saturates: the {form} curve that fits best "
            f"rises half of its way only at spend {reach:,.0f}, more than "
            f"{SATURATION_REACH:g} times the largest observed spend {x_max:,.0f}; observe "
            "higher spends, or type the curve in"
        )
    if reach > x_max:
        warnings.append(
            f"half of the rise comes at spend {reach:,.0f}, beyond the largest observed "
            f"spend {x_max:,.0f}: the top of the curve is extrapolated"
        )
    at_bound = [
        names[i]
        for i in range(2, p)
        if min(theta[i] - lower[i], upper[i] - theta[i]) < 1e-6 * max(1.0, abs(theta[i]))
    ]
    if at_bound:
        warnings.append(f"{', '.join(at_bound)} at the edge of its range: the fit is unsure")
    if n < FEW_POINTS:
        warnings.append(f"only {n} observations: the uncertainty is rough (15 or more are better)")
    if r2 < 0.5:
        warnings.append(f"the curve explains little of the variation (r2 {r2:.2f})")
    outside = int(((y < -0.05) | (y > 1.05)).sum())
    if outside:
        warnings.append(
            f"{outside} observation{'s' if outside > 1 else ''} lie outside quality 0..1: "
            "check --outcome-at-0 and --outcome-at-1"
        )
    spread = x_max / x_small if x_small > 0 else math.inf
    if spread < 2:
        warnings.append(
            f"observed spends span a narrow range ({x_small:,.0f} to {x_max:,.0f}): "
            "the curve outside it is extrapolated"
        )
    return Fit(
        form=form,
        parameters=parameters,
        standard_errors=standard_errors,
        log_parameters=tuple(names),
        covariance=covariance.tolist(),
        r2=r2,
        rmse=math.sqrt(rss / n),
        n=n,
        aicc=aicc,
        warnings=warnings,
        degenerate=degenerate,
    )


def theta_of(fit: Fit) -> np.ndarray:
    """The fitted parameter vector theta (base, max, log rate[, log shape])."""
    p = fit.parameters
    theta = [p["base"], p["max"], math.log(p[RATE_NAME[fit.form]])]
    if fit.form == "hill":
        theta.append(math.log(p["shape"]))
    return np.array(theta)


def bootstrap(
    data: Observations,
    fit: Fit,
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
    s_shaped: bool = False,
) -> Fit:
    """The fit with its uncertainty from a residual bootstrap: `samples` refits to the fitted
    curve plus residuals drawn with replacement (centred, and widened by sqrt(n / (n - p))
    for the degrees of freedom the fit used). Seeded: the same data give the same draws."""
    x, y = data.spend, data.quality
    theta = theta_of(fit)
    fitted = _model(fit.form, theta, x)
    residuals = y - fitted
    n, p = data.n, theta.size
    residuals = (residuals - residuals.mean()) * math.sqrt(n / max(n - p, 1))
    lower, upper = _bounds(fit.form, data, s_shaped=s_shaped)
    start = np.clip(theta, np.array(lower) + 1e-9, np.array(upper) - 1e-9)
    rng = np.random.default_rng(seed)
    draws = np.empty((samples, p))
    for b in range(samples):
        y_star = fitted + rng.choice(residuals, size=n, replace=True)
        result = least_squares(
            lambda t, y_star=y_star: _model(fit.form, t, x) - y_star,
            start,
            bounds=(lower, upper),
            method="trf",
            x_scale="jac",
            max_nfev=500,
        )
        draws[b] = result.x
    covariance = np.cov(draws, rowvar=False)
    se_theta = draws.std(axis=0, ddof=1)
    standard_errors = {"base": float(se_theta[0]), "max": float(se_theta[1])}
    rate = RATE_NAME[fit.form]
    standard_errors[rate] = fit.parameters[rate] * float(se_theta[2])
    if fit.form == "hill":
        standard_errors["shape"] = fit.parameters["shape"] * float(se_theta[3])
    why = f"{n} observations" if n < FEW_POINTS else "a degenerate covariance"
    note = f"uncertainty from {samples} bootstrap refits (residual bootstrap), for {why}"
    return replace(
        fit,
        method="bootstrap",
        draws=draws.tolist(),
        covariance=covariance.tolist(),
        standard_errors=standard_errors,
        warnings=[*fit.warnings, note],
    )


def fit(
    data: Observations, form: FitForm | Literal["auto"] = "auto", *, s_shaped: bool = False
) -> Fit:
    """The best curve for the observations: one form, or `auto` (smallest AICc among the
    concave forms). Raises FitError when the data cannot support a curve."""
    check_data(data)
    best = _best(data, form, s_shaped=s_shaped)
    if best.n < FEW_POINTS or best.degenerate:
        return bootstrap(data, best, s_shaped=s_shaped)
    return best


def _best(data: Observations, form: FitForm | Literal["auto"], *, s_shaped: bool) -> Fit:
    if form != "auto":
        return fit_form(data, form, s_shaped=s_shaped)
    fits: list[Fit] = []
    errors: list[str] = []
    for candidate in FORMS:
        try:
            fits.append(fit_form(data, candidate))
        except FitError as error:
            errors.append(str(error))
    if not fits:
        # the first reason is the most telling: every form says the same of these data
        raise FitError(errors[0])
    compared: dict[str, float] = {f.form: f.aicc for f in fits}
    best = min(fits, key=lambda f: (f.aicc, FORMS.index(f.form)))
    if not math.isfinite(best.aicc):
        best = min(fits, key=lambda f: (len(f.parameters), f.rmse))
    return replace(best, compared=compared)


def fit_text(fit: Fit, date: str | None = None) -> str:
    """The fit for people: the curve to paste (YAML flow style), its quality and doubts."""
    import yaml

    curve = yaml.safe_dump(
        fit.curve(date), default_flow_style=True, sort_keys=False, width=10**6
    ).strip()
    lines = [
        f"form      {fit.form}",
        f"curve     {curve}",
        f"r2        {fit.r2:.4f}",
        f"rmse      {fit.rmse:.4g} (quality)",
        f"n         {fit.n}",
        "parameters (value ± standard error):",
    ]
    for name, value in fit.parameters.items():
        lines.append(f"  {name:<11}{value:.6g} ± {fit.standard_errors[name]:.3g}")
    if fit.compared:
        ranked = sorted(fit.compared.items(), key=lambda kv: kv[1])
        lines.append("AICc (smaller is better): " + ", ".join(f"{k} {v:.1f}" for k, v in ranked))
    lines.append("warnings:" + (" none" if not fit.warnings else ""))
    lines += [f"  - {w}" for w in fit.warnings]
    return "\n".join(lines)
