"""What the optimum is compared with: the current allocation and the silo allocation.

Silo (DOMAIN.md): each department gets an allotment (its cap; all caps scaled down in
proportion when they add up to more than the budget; uncapped departments share what is
left in proportion to their current spend, equally when none has any), then spends it to
maximize the unweighted sum of its own touchpoints' curve qualities, blind to journeys and
dependencies. That is a separable concave problem with one budget per department, solved
exactly on the true curves by equalizing slopes (`silo_allocation`); flat pieces are never
bought (least spend on ties).
"""

from collections.abc import Sequence

import numpy as np

from optimizer.curves import Params, max_slope
from optimizer.problem import PortfolioProblem


def current_allocation(problem: PortfolioProblem) -> list[float]:
    return [tp.current_spend for tp in problem.touchpoints]


def silo_allotments(problem: PortfolioProblem) -> list[float]:
    """Money each department may spend under the touchpoint-manager logic."""
    budget = problem.budget
    caps = {d: dept.cap for d, dept in enumerate(problem.departments) if dept.cap is not None}
    capped_total = sum(caps.values())
    factor = budget / capped_total if capped_total > budget and capped_total > 0 else 1.0
    allot = [0.0] * len(problem.departments)
    for d, cap in caps.items():
        allot[d] = cap * factor
    rest = max(0.0, budget - sum(allot))
    uncapped = [d for d in range(len(problem.departments)) if d not in caps]
    if uncapped:
        current = {
            d: sum(problem.touchpoints[t].current_spend for t in problem.members[d])
            for d in uncapped
        }
        total_current = sum(current.values())
        for d in uncapped:
            share = current[d] / total_current if total_current > 0 else 1 / len(uncapped)
            allot[d] = rest * share
    return allot


def silo_allocation(
    problem: PortfolioProblem, allotments: Sequence[float] | None = None
) -> list[float]:
    """Each department spends its allotment where its curves rise fastest.

    max sum_t q_t(x_t) subject to sum_t x_t <= allotment and the bounds is concave and
    separable: at the optimum every touchpoint sits where its slope equals the
    department's price lambda (or at a bound). x_t(lambda) is where a formula curve's
    slope is lambda (`Params.spend_at_slope`: closed-form but for hill curves) and the end
    of the last piece steeper than lambda for points curves; lambda is found by bisection
    (in log space, all departments at once), and touchpoints whose pieces have slope
    exactly lambda share what is left.

    An S-shaped curve is not concave: its manager buys on the falling branch of its slope
    (where the slope is lambda, past the inflexion) or nothing, the first-order rule
    applied to the curve as it is; the convex start alone is never a stopping point."""
    allot = np.asarray(silo_allotments(problem) if allotments is None else allotments, dtype=float)
    tps = problem.touchpoints
    n = len(tps)
    if n == 0:
        return []
    lower = np.array([tp.lower for tp in tps])
    upper = np.array([tp.upper for tp in tps])
    dept = np.array([tp.department for tp in tps], dtype=int)
    sat = np.array([t for t, tp in enumerate(tps) if tp.curve.points is None], dtype=int)
    params = Params.of([tps[t].curve for t in sat])
    owner, seg_slope, seg_end = [], [], []
    for t, tp in enumerate(tps):
        pts = tp.curve.points
        if pts is None:
            continue
        for (s0, q0), (s1, q1) in zip(pts, pts[1:], strict=False):
            if q1 > q0:
                owner.append(t)
                seg_slope.append((q1 - q0) / (s1 - s0))
                seg_end.append(s1)
    owner_a = np.array(owner, dtype=int)
    slope_a = np.array(seg_slope)
    end_a = np.array(seg_end)

    def spend_at(price: np.ndarray) -> np.ndarray:
        """x_t(lambda) for a price per touchpoint."""
        x = lower.copy()
        if sat.size:
            x[sat] = params.spend_at_slope(price[sat])
        if owner_a.size:
            steep = slope_a > price[owner_a]
            np.maximum.at(x, owner_a[steep], end_a[steep])
        clipped: np.ndarray = np.clip(x, lower, upper)
        return clipped

    n_dept = len(problem.departments)

    def totals(x: np.ndarray) -> np.ndarray:
        return np.bincount(dept, weights=x, minlength=n_dept)

    steepest = max(
        float(slope_a.max()) if slope_a.size else 0.0,
        max((max_slope(tps[t].curve, tps[t].upper) for t in sat), default=0.0),
    )
    cheap = np.full(n_dept, 1e-30)
    dear = np.full(n_dept, 2 * steepest + 1e-30)
    x_all = spend_at(cheap[dept])
    enough = totals(x_all) <= allot  # all useful spend fits: take it (least spend)
    for _ in range(120):
        mid = np.sqrt(cheap * dear)
        over = totals(spend_at(mid[dept])) > allot
        cheap = np.where(over, mid, cheap)
        dear = np.where(over, dear, mid)
    x_lo, x_hi = spend_at(cheap[dept]), spend_at(dear[dept])  # x_lo spends more
    s_lo, s_hi = totals(x_lo), totals(x_hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.clip((allot - s_hi) / (s_lo - s_hi), 0.0, 1.0)
    share = np.where(s_lo > s_hi, share, 0.0)
    x = x_hi + share[dept] * (x_lo - x_hi)
    x = np.where(enough[dept], x_all, x)
    # a department whose minimum spends exceed its allotment spends its minimums
    x = np.where((totals(lower) >= allot)[dept], lower, x)
    spends: list[float] = x.tolist()
    return spends
