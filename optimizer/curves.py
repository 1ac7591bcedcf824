"""Response curves: exact evaluation, and the lines the linear program uses.

A curve q(x) is concave and nondecreasing, so on an interval [lower, upper] it equals the
minimum of the lines through its pieces:

- `points`: the lines through consecutive points (exact), plus the flat line after the
  last point;
- saturating q(x) = base + A x / (x + h), A = max - base: chords between breakpoints. A
  chord lies below the curve (the model never promises quality the curve does not give);
  the parallel tangent, the chord shifted up by `delta`, lies above it everywhere. The
  model solves on chords (a lower bound) and the tangents give the upper bound that the
  reported approximation gap is measured against.

Breakpoints of a saturating curve equidistribute the chord error: the error of a chord of
length l is about |q''| l^2 / 8 with |q''| = 2 A h / (x + h)^3, so equal steps in
s = (x + h)^(-1/2) give segments of equal error.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.problem import Curve

DEFAULT_TOLERANCE = 2.5e-4
"""Chord error (in quality) the first breakpoints aim at."""


@dataclass(frozen=True, slots=True)
class Lines:
    """q <= intercept[k] + slope[k] * x for every k; `delta[k]` lifts chord k to its tangent."""

    slopes: tuple[float, ...]
    intercepts: tuple[float, ...]
    deltas: tuple[float, ...]
    breakpoints: tuple[float, ...]
    """Spends where the lines change (saturating curves only; refinement splits these)."""

    def __len__(self) -> int:
        return len(self.slopes)


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
    return curve.base + (curve.top - curve.base) * x / (x + curve.half_spend)


def evaluate_many(curves: Sequence[Curve], spends: Sequence[float]) -> np.ndarray:
    return np.array([evaluate(c, x) for c, x in zip(curves, spends, strict=True)])


def slope_at(curve: Curve, x: float) -> float:
    """The right derivative dq/dx at x (0 after the last point)."""
    if curve.points is not None:
        pts = curve.points
        for (s0, q0), (s1, q1) in zip(pts, pts[1:], strict=False):
            if x < s1:
                return (q1 - q0) / (s1 - s0)
        return 0.0
    a, h = curve.top - curve.base, curve.half_spend
    return a * h / (max(x, 0.0) + h) ** 2


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
    base: np.ndarray, gain: np.ndarray, half: np.ndarray, x0: np.ndarray, x1: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slope, intercept and tangent lift of the chords of saturating curves from x0 to x1
    (arrays, one entry per chord). The tangent parallel to a chord touches the curve where
    q'(c) = slope, i.e. c = sqrt(A h / slope) - h."""
    q0 = base + gain * x0 / (x0 + half)
    q1 = base + gain * x1 / (x1 + half)
    slope = (q1 - q0) / (x1 - x0)
    intercept = q0 - slope * x0
    rising = slope > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(rising, np.clip(np.sqrt(gain * half / slope) - half, x0, x1), x0)
    lift = base + gain * c / (c + half) - (intercept + slope * c)
    return slope, intercept, np.where(rising, np.maximum(0.0, lift), 0.0)


def chord_lines(curve: Curve, breakpoints: Sequence[float]) -> Lines:
    """Chords of a saturating curve between consecutive breakpoints, with tangent lifts."""
    x = np.asarray(breakpoints, dtype=float)
    n = len(x) - 1
    slope, intercept, lift = _chords(
        np.full(n, curve.base),
        np.full(n, curve.top - curve.base),
        np.full(n, curve.half_spend),
        x[:-1],
        x[1:],
    )
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
    (saturating) on [lower, upper]. A fixed spend (lower == upper) gives one flat line."""
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
    """Split the given segments in two (at their midpoint in s = (x + h)^(-1/2))."""
    h = curve.half_spend
    out = list(breakpoints)
    for k in sorted(set(segments), reverse=True):
        s0, s1 = (out[k] + h) ** -0.5, (out[k + 1] + h) ** -0.5
        out.insert(k + 1, ((s0 + s1) / 2) ** -2 - h)
    return out


def chord_integral(
    curves: Sequence[Curve],
    lowers: Sequence[float] | np.ndarray,
    uppers: Sequence[float] | np.ndarray,
) -> np.ndarray:
    """For saturating curves: sqrt(8 tolerance) times the number of chords that keep their
    error near `tolerance` on [lower, upper] (the integral of sqrt(|q''|))."""
    a = np.array([c.top - c.base for c in curves])
    h = np.array([c.half_spend for c in curves])
    lo, up = np.asarray(lowers, dtype=float), np.asarray(uppers, dtype=float)
    return np.sqrt(2 * a * h) * 2 * ((lo + h) ** -0.5 - (up + h) ** -0.5)


def saturating_lines_batch(
    curves: Sequence[Curve],
    lowers: Sequence[float],
    uppers: Sequence[float],
    tolerance: float | np.ndarray,
) -> list[Lines]:
    """`lines_for` for many saturating curves at once (numpy), same breakpoints and lines;
    `tolerance` may differ per curve."""
    if not curves:
        return []
    base = np.array([c.base for c in curves])
    gain = np.array([c.top - c.base for c in curves])
    half = np.array([c.half_spend for c in curves])
    lo, up = np.asarray(lowers, dtype=float), np.asarray(uppers, dtype=float)
    # breakpoints equally spaced in s = (x + h)^(-1/2): chords of equal error
    integral = chord_integral(curves, lo, up)
    n = np.maximum(1, np.ceil(integral / np.sqrt(8 * np.asarray(tolerance)))).astype(int)
    owner = np.repeat(np.arange(len(curves)), n)
    first = np.cumsum(n) - n
    i = np.arange(owner.size) - first[owner]
    ns = n[owner]
    s_low, s_up = (lo + half) ** -0.5, (up + half) ** -0.5
    step = (s_low - s_up)[owner] / ns
    hh = half[owner]
    x0 = np.where(i == 0, lo[owner], (s_low[owner] - step * i) ** -2 - hh)
    x1 = np.where(i == ns - 1, up[owner], (s_low[owner] - step * (i + 1)) ** -2 - hh)
    slope, intercept, delta = _chords(base[owner], gain[owner], hh, x0, x1)
    out = []
    for k in range(len(curves)):
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
        sat = [i for i, c in enumerate(curves) if c.points is None]
        self.sat = np.array(sat, dtype=int)
        self.base = np.array([curves[i].base for i in sat])
        self.gain = np.array([curves[i].top - curves[i].base for i in sat])
        self.half = np.array([curves[i].half_spend for i in sat])
        self.points = [
            (i, np.array([p[0] for p in c.points]), np.array([p[1] for p in c.points]))
            for i, c in enumerate(curves)
            if c.points is not None
        ]

    def evaluate(self, spends: np.ndarray) -> np.ndarray:
        """Qualities at `spends`, shape (..., touchpoints)."""
        x = np.asarray(spends, dtype=float)
        out = np.empty_like(x)
        xs = np.maximum(x[..., self.sat], 0.0)
        out[..., self.sat] = self.base + self.gain * xs / (xs + self.half)
        for i, px, pq in self.points:
            out[..., i] = np.interp(x[..., i], px, pq)
        return out
