"""Response curves: exact evaluation, and the lines the linear program uses.

A curve q(x) is concave and nondecreasing, so on an interval [lower, upper] it equals the
minimum of the lines through its pieces:

- `points`: the lines through consecutive points (exact), plus the flat line after the
  last point;
- a formula q(x) = base + A f(x), A = max - base (DOMAIN.md, portfolio-format.md):
  saturating f = x / (x + h); hill f = x^n / (x^n + h^n) with n <= 1; exponential
  f = 1 - exp(-x / k); logistic f = (1 - exp(-lam x)) / (1 + exp(-lam x)) = tanh(lam x / 2).
  Chords between breakpoints: a chord lies below the curve (the model never promises
  quality the curve does not give); the parallel tangent, the chord shifted up by `delta`,
  lies above it everywhere. The model solves on chords (a lower bound) and the tangents
  give the upper bound that the reported approximation gap is measured against.

Breakpoints equidistribute the chord error: the error of a chord of length l is about
|q''| l^2 / 8, so segments of equal integral of sqrt(|q''|) have equal error. For a
saturating curve, |q''| = 2 A h / (x + h)^3 and equal steps in s = (x + h)^(-1/2) do it in
closed form; the other forms integrate sqrt(|q''|) on a grid (exact enough: only the
number and placement of chords depend on it, never a reported figure).
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.problem import Curve

DEFAULT_TOLERANCE = 2.5e-4
"""Chord error (in quality) the first breakpoints aim at."""

FORM_CODES = {"saturating": 0, "hill": 1, "exponential": 2, "logistic": 3}
SATURATING, HILL, EXPONENTIAL, LOGISTIC = 0, 1, 2, 3

_GRID = np.unique(np.concatenate([np.linspace(0.0, 1.0, 129), np.geomspace(1e-9, 1.0, 128)]))
"""Where sqrt(|q''|) is integrated (fractions of [lower, upper]; geometric near the lower
end, where a hill curve with shape < 1 is steepest)."""


@dataclass(frozen=True, slots=True)
class Lines:
    """q <= intercept[k] + slope[k] * x for every k; `delta[k]` lifts chord k to its tangent."""

    slopes: tuple[float, ...]
    intercepts: tuple[float, ...]
    deltas: tuple[float, ...]
    breakpoints: tuple[float, ...]
    """Spends where the lines change (formula curves only; refinement splits these)."""

    def __len__(self) -> int:
        return len(self.slopes)


def rate_of(curve: Curve) -> float:
    """The parameter that sets a formula curve's spend scale (h, h, k or lam)."""
    if curve.form == "exponential":
        return curve.scale
    if curve.form == "logistic":
        return curve.lam
    return curve.half_spend


# --------------------------------------------------------------------------- one curve


def evaluate(curve: Curve, x: float) -> float:
    """The curve's quality at spend x (flat after the last point)."""
    if curve.points is not None:
        pts = curve.points
        if x >= pts[-1][0]:
            return pts[-1][1]
        for (s0, q0), (s1, q1) in zip(pts, pts[1:], strict=False):
            if x <= s1:
                return q0 + (q1 - q0) * (x - s0) / (s1 - s0)
        return pts[-1][1]
    x = max(x, 0.0)
    a = curve.top - curve.base
    form = curve.form
    if form == "hill":
        if x == 0:
            return curve.base
        r: float = (x / curve.half_spend) ** curve.shape
        return curve.base + a * r / (1 + r)
    if form == "exponential":
        return curve.base - a * math.expm1(-x / curve.scale)
    if form == "logistic":
        e = math.exp(-curve.lam * x)
        return curve.base - a * math.expm1(-curve.lam * x) / (1 + e)
    return curve.base + a * x / (x + curve.half_spend)


def evaluate_many(curves: Sequence[Curve], spends: Sequence[float]) -> np.ndarray:
    return np.array([evaluate(c, x) for c, x in zip(curves, spends, strict=True)])


def slope_at(curve: Curve, x: float) -> float:
    """The right derivative dq/dx at x (0 after the last point; +inf at 0 for a hill curve
    with shape < 1)."""
    if curve.points is not None:
        pts = curve.points
        for (s0, q0), (s1, q1) in zip(pts, pts[1:], strict=False):
            if x < s1:
                return (q1 - q0) / (s1 - s0)
        return 0.0
    x = max(x, 0.0)
    a = curve.top - curve.base
    form = curve.form
    if form == "hill":
        n, h = curve.shape, curve.half_spend
        if x == 0:
            if a == 0:
                return 0.0
            return a / h if n == 1 else (math.inf if n < 1 else 0.0)
        r: float = (x / h) ** n
        return a * n * r / (x * (1 + r) ** 2)
    if form == "exponential":
        return a / curve.scale * math.exp(-x / curve.scale)
    if form == "logistic":
        e = math.exp(-curve.lam * x)
        return a * curve.lam * 2 * e / (1 + e) ** 2
    return a * curve.half_spend / (x + curve.half_spend) ** 2


def finite_slope(curve: Curve, x: float, span: float) -> float:
    """`slope_at`, or where it is infinite (a hill curve with shape < 1 at spend 0) the
    slope of the chord over the first millionth of `span`: a tangent row or a price needs
    a number."""
    slope = slope_at(curve, x)
    if math.isfinite(slope):
        return slope
    step = max(span, 1.0) * 1e-6
    return (evaluate(curve, x + step) - evaluate(curve, x)) / step


def tangent(curve: Curve, x: float, span: float) -> tuple[float, float, float]:
    """(spend, slope, quality) of a tangent of the true curve at x, or, where the slope
    there is infinite (a hill curve with shape < 1 at 0), at x plus a millionth of `span`:
    still a true tangent, so it lies above the curve everywhere."""
    if not math.isfinite(slope_at(curve, x)):
        x += max(span, 1.0) * 1e-6
    return x, slope_at(curve, x), evaluate(curve, x)


# --------------------------------------------------------------------------- many curves


@dataclass(frozen=True, slots=True)
class Params:
    """Formula curves as arrays (one entry per curve): form code, base, gain A, rate, shape."""

    code: np.ndarray
    base: np.ndarray
    gain: np.ndarray
    rate: np.ndarray
    shape: np.ndarray

    @staticmethod
    def of(curves: Sequence[Curve]) -> "Params":
        return Params(
            np.array([FORM_CODES[c.form] for c in curves], dtype=int),
            np.array([c.base for c in curves], dtype=float),
            np.array([c.top - c.base for c in curves], dtype=float),
            np.array([rate_of(c) for c in curves], dtype=float),
            np.array([c.shape for c in curves], dtype=float),
        )

    def take(self, index: np.ndarray) -> "Params":
        p = self
        return Params(p.code[index], p.base[index], p.gain[index], p.rate[index], p.shape[index])

    def value(self, x: np.ndarray) -> np.ndarray:
        """q(x), x broadcast against the curves (last axis)."""
        values: np.ndarray = self.base + _gain_part(self, np.maximum(x, 0.0), _value_parts)
        return values

    def slope(self, x: np.ndarray) -> np.ndarray:
        return _gain_part(self, np.maximum(x, 0.0), _slope_parts)

    def root_curvature(self, x: np.ndarray) -> np.ndarray:
        """sqrt(|q''(x)|)."""
        return _gain_part(self, np.maximum(x, 0.0), _root_curvature_parts)

    def spend_at_slope(self, slope: np.ndarray) -> np.ndarray:
        """The spend >= 0 where q' = slope (concave: q' falls), 0 where q' never reaches it,
        inf where slope <= 0."""
        m = np.broadcast_to(np.asarray(slope, dtype=float), self.gain.shape)
        out = np.zeros(self.gain.shape)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for code in np.unique(self.code).tolist():
                k = self.code == code
                g, p, n, mk = self.gain[k], self.rate[k], self.shape[k], m[k]
                if code == SATURATING:
                    x = np.sqrt(g * p / mk) - p
                elif code == EXPONENTIAL:
                    x = p * np.log(g / (p * mk))
                elif code == LOGISTIC:
                    x = 2 / p * np.arccosh(np.maximum(1.0, np.sqrt(g * p / (2 * mk))))
                else:
                    x = _hill_spend_at_slope(g, p, n, mk)
                x = np.maximum(np.where(np.isnan(x), 0.0, x), 0.0)
                out[k] = np.where(mk <= 0, np.inf, np.where(g > 0, x, 0.0))
        return out


# one function of (spend, gain, rate, shape) arrays per curve form code
Part = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _gain_part(params: Params, x: np.ndarray, parts: dict[int, Part]) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    shape = np.broadcast_shapes(x.shape, params.gain.shape)
    xb = np.broadcast_to(x, shape)
    out = np.zeros(shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for code in np.unique(params.code).tolist():
            k = params.code == code
            fn = parts[code]
            out[..., k] = fn(xb[..., k], params.gain[k], params.rate[k], params.shape[k])
    return out


def _hill_r(x: np.ndarray, h: np.ndarray, n: np.ndarray) -> np.ndarray:
    return np.asarray((x / h) ** n)


_value_parts: dict[int, Part] = {
    SATURATING: lambda x, g, h, n: g * x / (x + h),
    HILL: lambda x, g, h, n: g * (lambda r: r / (1 + r))(_hill_r(x, h, n)),
    EXPONENTIAL: lambda x, g, k, n: -g * np.expm1(-x / k),
    LOGISTIC: lambda x, g, lam, n: -g * np.expm1(-lam * x) / (1 + np.exp(-lam * x)),
}


def _hill_slope(x: np.ndarray, g: np.ndarray, h: np.ndarray, n: np.ndarray) -> np.ndarray:
    r = _hill_r(x, h, n)
    inner = g * n * r / (x * (1 + r) ** 2)
    at_zero = np.where(n == 1, g / h, np.where(n < 1, np.inf, 0.0))
    return np.where(x > 0, inner, np.where(g > 0, at_zero, 0.0))


_slope_parts: dict[int, Part] = {
    SATURATING: lambda x, g, h, n: g * h / (x + h) ** 2,
    HILL: _hill_slope,
    EXPONENTIAL: lambda x, g, k, n: g / k * np.exp(-x / k),
    LOGISTIC: lambda x, g, lam, n: g * lam * 2 * np.exp(-lam * x) / (1 + np.exp(-lam * x)) ** 2,
}


def _hill_root_curvature(x: np.ndarray, g: np.ndarray, h: np.ndarray, n: np.ndarray) -> np.ndarray:
    r = _hill_r(x, h, n)
    curvature = g * n * r / (x**2 * (1 + r) ** 2) * np.abs((n - 1) - 2 * n * r / (1 + r))
    return np.sqrt(np.where(x > 0, curvature, np.inf))


def _logistic_root_curvature(
    x: np.ndarray, g: np.ndarray, lam: np.ndarray, n: np.ndarray
) -> np.ndarray:
    u = lam * x / 2
    sech = 2 * np.exp(-u) / (1 + np.exp(-2 * u))
    root: np.ndarray = lam * np.sqrt(g / 2) * sech * np.sqrt(np.tanh(u))
    return root


_root_curvature_parts: dict[int, Part] = {
    SATURATING: lambda x, g, h, n: np.sqrt(2 * g * h) * (x + h) ** -1.5,
    HILL: _hill_root_curvature,
    EXPONENTIAL: lambda x, g, k, n: np.sqrt(g) / k * np.exp(-x / (2 * k)),
    LOGISTIC: _logistic_root_curvature,
}


def _hill_inflexion(h: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Where a hill curve's slope peaks: 0 for shape <= 1, h ((n-1)/(n+1))^(1/n) above."""
    with np.errstate(divide="ignore", invalid="ignore"):
        peak = h * np.maximum((n - 1) / (n + 1), 0.0) ** (1 / n)
    return np.where(n > 1, peak, 0.0)


def _hill_spend_at_slope(g: np.ndarray, h: np.ndarray, n: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Bisection in log spend on the falling branch of the slope: from q'(0) for a concave
    hill curve, from the inflexion for an S-shaped one (shape > 1), down to 0."""
    peak = _hill_inflexion(h, n)
    with np.errstate(divide="ignore"):
        lo = np.maximum(np.log(h) - 40.0, np.log(np.where(peak > 0, peak, 0.0)))
    hi = np.log(h) + 40.0
    for _ in range(80):
        mid = (lo + hi) / 2
        steeper = _hill_slope(np.exp(mid), g, h, n) > m
        lo = np.where(steeper, mid, lo)
        hi = np.where(steeper, hi, mid)
    x = np.exp((lo + hi) / 2)
    # the steepest slope may already be below m (shape 1 at 0): nothing to buy
    return np.where(_hill_slope(peak, g, h, n) <= m, 0.0, x)


def _cumulative_root_curvature(
    params: Params, lo: np.ndarray, up: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Grid spends (curves, G) on [lo, up] and the integral of sqrt(|q''|) from lo to each."""
    x = lo[:, None] + (up - lo)[:, None] * _GRID[None, :]
    mid = (x[:, 1:] + x[:, :-1]) / 2
    root = _gain_part(params, mid.T, _root_curvature_parts).T
    root = np.where(np.isfinite(root), root, 0.0)
    cumulative = np.concatenate(
        [np.zeros((len(lo), 1)), np.cumsum(root * np.diff(x, axis=1), axis=1)], axis=1
    )
    return x, cumulative


def _point_lines(curve: Curve, lower: float, upper: float) -> Lines:
    pts = curve.points
    assert pts is not None
    slopes: list[float] = []
    intercepts: list[float] = []
    for (s0, q0), (s1, q1) in zip(pts, pts[1:], strict=False):
        if s1 <= lower or s0 >= upper:
            continue
        slope = (q1 - q0) / (s1 - s0)
        slopes.append(slope)
        intercepts.append(q0 - slope * s0)
    if upper > pts[-1][0] or not slopes:
        slopes.append(0.0)
        intercepts.append(pts[-1][1] if upper > pts[-1][0] else evaluate(curve, upper))
    n = len(slopes)
    return Lines(tuple(slopes), tuple(intercepts), (0.0,) * n, ())


def _chords(
    params: Params, x0: np.ndarray, x1: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slope, intercept and tangent lift of chords from x0 to x1 (one entry of `params` per
    chord). The tangent parallel to a chord touches the curve where q'(c) = slope."""
    q0 = params.value(x0)
    q1 = params.value(x1)
    slope = (q1 - q0) / (x1 - x0)
    intercept = q0 - slope * x0
    rising = slope > 0
    c = np.where(rising, np.clip(params.spend_at_slope(np.where(rising, slope, 1.0)), x0, x1), x0)
    lift = params.value(c) - (intercept + slope * c)
    return slope, intercept, np.where(rising, np.maximum(0.0, lift), 0.0)


def chord_lines(curve: Curve, breakpoints: Sequence[float]) -> Lines:
    """Chords of a formula curve between consecutive breakpoints, with tangent lifts."""
    x = np.asarray(breakpoints, dtype=float)
    n = len(x) - 1
    params = Params.of([curve]).take(np.zeros(n, dtype=int))
    slope, intercept, lift = _chords(params, x[:-1], x[1:])
    return Lines(
        tuple(slope.tolist()), tuple(intercept.tolist()), tuple(lift.tolist()), tuple(x.tolist())
    )


def lines_for(
    curve: Curve,
    lower: float,
    upper: float,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    breakpoints: Sequence[float] | None = None,
) -> Lines:
    """The lines whose minimum is the curve (points) or its chord approximation
    (formula curves) on [lower, upper]. A fixed spend (lower == upper) gives one flat line."""
    if upper <= lower:
        q = evaluate(curve, lower)
        return Lines((0.0,), (q,), (0.0,), ())
    if curve.points is not None:
        return _point_lines(curve, lower, upper)
    if curve.top <= curve.base:
        return Lines((0.0,), (curve.base,), (0.0,), ())
    if breakpoints is None:
        return saturating_lines_batch([curve], [lower], [upper], tolerance)[0]
    return chord_lines(curve, breakpoints)


def refine(breakpoints: Sequence[float], segments: Sequence[int], curve: Curve) -> list[float]:
    """Split the given segments in two where they hold half of their chord error (the
    midpoint in s = (x + h)^(-1/2) for a saturating curve, of the integral of sqrt(|q''|)
    for the others)."""
    out = list(breakpoints)
    ks = sorted(set(segments), reverse=True)
    if curve.form == "saturating":
        h = curve.half_spend
        for k in ks:
            s0, s1 = (out[k] + h) ** -0.5, (out[k + 1] + h) ** -0.5
            out.insert(k + 1, ((s0 + s1) / 2) ** -2 - h)
        return out
    if not ks:
        return out
    params = Params.of([curve]).take(np.zeros(len(ks), dtype=int))
    lo = np.array([out[k] for k in ks])
    up = np.array([out[k + 1] for k in ks])
    grid, cumulative = _cumulative_root_curvature(params, lo, up)
    for i, k in enumerate(ks):
        total = cumulative[i, -1]
        middle = (lo[i] + up[i]) / 2
        if total > 0:
            middle = float(np.interp(total / 2, cumulative[i], grid[i]))
        if lo[i] < middle < up[i]:
            out.insert(k + 1, middle)
    return out


def chord_integral(
    curves: Sequence[Curve],
    lowers: Sequence[float] | np.ndarray,
    uppers: Sequence[float] | np.ndarray,
) -> np.ndarray:
    """For formula curves: sqrt(8 tolerance) times the number of chords that keep their
    error near `tolerance` on [lower, upper] (the integral of sqrt(|q''|))."""
    lo, up = np.asarray(lowers, dtype=float), np.asarray(uppers, dtype=float)
    out = np.zeros(len(curves))
    sat = np.array([c.form == "saturating" for c in curves], dtype=bool)
    if sat.any():
        a = np.array([c.top - c.base for c, s in zip(curves, sat, strict=True) if s])
        h = np.array([c.half_spend for c, s in zip(curves, sat, strict=True) if s])
        out[sat] = np.sqrt(2 * a * h) * 2 * ((lo[sat] + h) ** -0.5 - (up[sat] + h) ** -0.5)
    if (~sat).any():
        params = Params.of([c for c, s in zip(curves, sat, strict=True) if not s])
        _, cumulative = _cumulative_root_curvature(params, lo[~sat], up[~sat])
        out[~sat] = cumulative[:, -1]
    return out


def saturating_lines_batch(
    curves: Sequence[Curve],
    lowers: Sequence[float],
    uppers: Sequence[float],
    tolerance: float | np.ndarray,
) -> list[Lines]:
    """`lines_for` for many formula curves at once (numpy), same breakpoints and lines;
    `tolerance` may differ per curve. (Named for the first form; it takes every one.)"""
    if not curves:
        return []
    m = len(curves)
    params = Params.of(curves)
    lo, up = np.asarray(lowers, dtype=float), np.asarray(uppers, dtype=float)
    tol = np.broadcast_to(np.asarray(tolerance, dtype=float), (m,))
    integral = chord_integral(curves, lo, up)
    n = np.maximum(1, np.ceil(integral / np.sqrt(8 * tol))).astype(int)
    owner = np.repeat(np.arange(m), n)
    first = np.cumsum(n) - n
    i = np.arange(owner.size) - first[owner]
    ns = n[owner]
    x0 = np.empty(owner.size)
    x1 = np.empty(owner.size)
    sat = params.code == SATURATING
    chord_sat = sat[owner]
    if sat.any():
        # breakpoints equally spaced in s = (x + h)^(-1/2): chords of equal error
        half = params.rate
        with np.errstate(divide="ignore", invalid="ignore"):
            s_low, s_up = (lo + half) ** -0.5, (up + half) ** -0.5
        step = (s_low - s_up)[owner] / ns
        hh = half[owner]
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(i == 0, lo[owner], (s_low[owner] - step * i) ** -2 - hh)
            b = np.where(i == ns - 1, up[owner], (s_low[owner] - step * (i + 1)) ** -2 - hh)
        x0[chord_sat], x1[chord_sat] = a[chord_sat], b[chord_sat]
    other = np.flatnonzero(~sat)
    if other.size:
        grid, cumulative = _cumulative_root_curvature(params.take(other), lo[other], up[other])
        for row, k in enumerate(other.tolist()):
            targets = cumulative[row, -1] * np.arange(n[k] + 1) / n[k]
            points = np.interp(targets, cumulative[row], grid[row])
            points[0], points[-1] = lo[k], up[k]
            points = np.maximum.accumulate(points)
            sl = slice(first[k], first[k] + n[k])
            x0[sl], x1[sl] = points[:-1], points[1:]
    slope, intercept, delta = _chords(params.take(owner), x0, x1)
    out = []
    for k in range(m):
        sl = slice(first[k], first[k] + n[k])
        points = np.append(x0[sl], x1[sl][-1])
        out.append(
            Lines(
                tuple(slope[sl].tolist()),
                tuple(intercept[sl].tolist()),
                tuple(delta[sl].tolist()),
                tuple(points.tolist()),
            )
        )
    return out


class CurveTable:
    """Every touchpoint's curve, evaluated for many spends at once (numpy)."""

    def __init__(self, curves: Sequence[Curve]) -> None:
        self.size = len(curves)
        formula = [i for i, c in enumerate(curves) if c.points is None]
        self.sat = np.array(formula, dtype=int)
        self.params = Params.of([curves[i] for i in formula])
        self.points = [
            (i, np.array([p[0] for p in c.points]), np.array([p[1] for p in c.points]))
            for i, c in enumerate(curves)
            if c.points is not None
        ]

    def evaluate(self, spends: np.ndarray) -> np.ndarray:
        """Qualities at `spends`, shape (..., touchpoints)."""
        x = np.asarray(spends, dtype=float)
        out = np.empty_like(x)
        if self.sat.size:
            out[..., self.sat] = self.params.value(x[..., self.sat])
        for i, px, pq in self.points:
            out[..., i] = np.interp(x[..., i], px, pq)
        return out


# --------------------------------------------------------------------------- S-shaped curves

MAX_CONVEX_SEGMENTS = 12
"""Most chord segments (and so binaries) the convex start of one S-shaped curve gets."""
CONVEX_TOLERANCE = 1e-3
"""Chord error the convex start's segments aim at: coarser than the tail's, since it only
counts where a spend stops inside the convex start (rare: there, more money raises the
curve ever faster), never at its ends, where the model is exact."""


def inflexion(curve: Curve) -> float | None:
    """Where an S-shaped curve's convex start ends and its concave tail begins; None for a
    concave curve. A hill curve with shape n > 1 turns at h ((n-1)/(n+1))^(1/n); a points
    curve whose slopes rise then fall turns where its steepest piece starts."""
    if curve.points is not None:
        pts = curve.points
        slopes = [(q1 - q0) / (s1 - s0) for (s0, q0), (s1, q1) in zip(pts, pts[1:], strict=False)]
        if len(slopes) < 2 or all(b <= a for a, b in zip(slopes, slopes[1:], strict=False)):
            return None
        steepest = max(range(len(slopes)), key=lambda k: (slopes[k], -k))
        return pts[steepest][0] if steepest > 0 else None
    if curve.form == "hill" and curve.shape > 1 and curve.top > curve.base:
        n = curve.shape
        return float(curve.half_spend * ((n - 1) / (n + 1)) ** (1 / n))
    return None


def s_shaped_on(curve: Curve, lower: float, upper: float) -> float | None:
    """The end of the convex start when the curve is S-shaped on [lower, upper] (its
    convex start reaches into the range), else None."""
    turn = inflexion(curve)
    if turn is None or upper <= lower or turn <= lower:
        return None
    return min(turn, upper)


def max_slope(curve: Curve, span: float) -> float:
    """The steepest slope of the curve (at its inflexion when S-shaped, else at 0)."""
    turn = inflexion(curve)
    if curve.points is not None:
        pts = curve.points
        return max(
            [(q1 - q0) / (s1 - s0) for (s0, q0), (s1, q1) in zip(pts, pts[1:], strict=False)]
            or [0.0]
        )
    return finite_slope(curve, 0.0 if turn is None else turn, span)


@dataclass(frozen=True, slots=True)
class ConvexStart:
    """The convex start of an S-shaped curve on [breakpoints[0], breakpoints[-1]] as chord
    segments: segment k rises `slopes[k]` per unit of spend. A chord lies above a convex
    piece (by at most `lifts[k]`), so the model uses, on segment k, the chord lowered by
    its lift, and on the first segment the tangent at its start (exact there, where a
    touchpoint that gets nothing sits): below the curve everywhere, exact at every
    breakpoint it leaves full. `lift` is the most it is below the chords (the bound)."""

    breakpoints: tuple[float, ...]
    slopes: tuple[float, ...]
    start_quality: float
    """The curve's quality at the first breakpoint."""
    lifts: tuple[float, ...]
    first_slope: float
    """The curve's slope at the first breakpoint (the first segment's tangent)."""

    def __len__(self) -> int:
        return len(self.slopes)

    @property
    def lengths(self) -> tuple[float, ...]:
        b = self.breakpoints
        return tuple(y - x for x, y in zip(b, b[1:], strict=False))

    @property
    def model_slopes(self) -> tuple[float, ...]:
        """The slope the model gives each segment (the first one's tangent, then chords)."""
        return (self.first_slope, *self.slopes[1:])

    @property
    def steps(self) -> tuple[float, ...]:
        """What filling segment k adds beyond its slope times its length (a binary's
        coefficient): the model's quality at the end of a full segment k is the next
        segment's lowered chord at its start, q(b_k) - lift_{k+1}, and q(b_K) at the end."""
        lifts = (*self.lifts[1:], 0.0)
        first = (
            (self.slopes[0] - self.first_slope) * self.lengths[0] - lifts[0] if self.slopes else 0.0
        )
        return (first, *(a - b for a, b in zip(self.lifts[1:], lifts[1:], strict=True)))

    @property
    def lift(self) -> float:
        """The most the model is below the chords on any segment."""
        first = (self.slopes[0] - self.first_slope) * self.lengths[0] if self.slopes else 0.0
        return max([first, *self.lifts[1:]])


def convex_start(
    curve: Curve, lower: float, end: float, tolerance: float = CONVEX_TOLERANCE
) -> ConvexStart:
    """Chord segments of the convex start on [lower, end]: the points themselves for a
    points curve (exact), else breakpoints that equidistribute the chord error (the
    integral of sqrt(|q''|)), at most MAX_CONVEX_SEGMENTS of them."""
    if curve.points is not None:
        inside = [s for s, _ in curve.points if lower < s < end]
        xs = np.array([lower, *inside, end], dtype=float)
        qs = np.array([evaluate(curve, x) for x in xs])
        slopes = np.diff(qs) / np.diff(xs)
        zero = (0.0,) * len(slopes)
        return ConvexStart(
            tuple(xs.tolist()), tuple(slopes.tolist()), float(qs[0]), zero, float(slopes[0])
        )
    params = Params.of([curve])
    lo, up = np.array([lower]), np.array([end])
    grid, cumulative = _cumulative_root_curvature(params, lo, up)
    total = float(cumulative[0, -1])
    n = int(min(MAX_CONVEX_SEGMENTS, max(1, math.ceil(total / math.sqrt(8 * tolerance)))))
    xs = np.interp(total * np.arange(n + 1) / n, cumulative[0], grid[0])
    xs[0], xs[-1] = lower, end
    xs = np.unique(xs)
    qs = params.value(xs[:, None])[:, 0]
    slopes = np.diff(qs) / np.diff(xs)
    # the chord is furthest above a convex piece where q' equals its slope (q' rises there)
    a, b = xs[:-1].copy(), xs[1:].copy()
    for _ in range(60):
        mid = (a + b) / 2
        below = params.slope(mid[:, None])[:, 0] < slopes
        a = np.where(below, mid, a)
        b = np.where(below, b, mid)
    c = (a + b) / 2
    gaps = qs[:-1] + slopes * (c - xs[:-1]) - params.value(c[:, None])[:, 0]
    lifts = np.maximum(gaps, 0.0) * (1 + 1e-9) + 1e-12
    first = min(finite_slope(curve, lower, end - lower), float(slopes[0]))
    return ConvexStart(
        tuple(xs.tolist()), tuple(slopes.tolist()), float(qs[0]), tuple(lifts.tolist()), first
    )


def envelope_lines(
    curve: Curve, lower: float, upper: float, tolerance: float = DEFAULT_TOLERANCE
) -> Lines:
    """The lines of the concave envelope of an S-shaped curve on [lower, upper]: the ramp
    from (lower, q(lower)) to the point x* where it touches the curve (q'(x*) equals the
    ramp's slope), then the curve's own chords (with their tangent lifts) up to `upper`."""
    q_low = evaluate(curve, lower)
    if curve.points is not None:
        pts = [(lower, q_low)] + [(s, q) for s, q in curve.points if lower < s < upper]
        pts.append((upper, evaluate(curve, upper)))
        hull: list[tuple[float, float]] = []
        for p in pts:
            while len(hull) >= 2:
                (x0, y0), (x1, y1) = hull[-2], hull[-1]
                if (y1 - y0) * (p[0] - x0) <= (p[1] - y0) * (x1 - x0):
                    hull.pop()  # hull[-1] lies on or below the line to p
                else:
                    break
            hull.append(p)
        slopes = [(y1 - y0) / (x1 - x0) for (x0, y0), (x1, y1) in zip(hull, hull[1:], strict=False)]
        intercepts = [y0 - s * x0 for (x0, y0), s in zip(hull, slopes, strict=False)]
        return Lines(tuple(slopes), tuple(intercepts), (0.0,) * len(slopes), ())
    turn = inflexion(curve)
    assert turn is not None

    def excess(x: float) -> float:  # > 0 while the ramp to x still cuts below the curve
        return slope_at(curve, x) * (x - lower) - (evaluate(curve, x) - q_low)

    a, b = max(turn, lower), upper
    if excess(b) >= 0:
        slope = (evaluate(curve, upper) - q_low) / (upper - lower)
        return Lines((slope,), (q_low - slope * lower,), (0.0,), (lower, upper))
    for _ in range(100):
        mid = (a + b) / 2
        if excess(mid) > 0:
            a = mid
        else:
            b = mid
    touch = b
    # the tangent at the touching point: on or above the ramp and the tail (a bound)
    slope = slope_at(curve, touch)
    q_low = evaluate(curve, touch) - slope * (touch - lower)
    tail = lines_for(curve, touch, upper, tolerance=tolerance)
    return Lines(
        (slope, *tail.slopes),
        (q_low - slope * lower, *tail.intercepts),
        (0.0, *tail.deltas),
        (lower, *tail.breakpoints),
    )
