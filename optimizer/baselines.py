"""What the optimum is compared with: the current allocation and the silo allocation.

Silo (DOMAIN.md): each department gets an allotment (its cap; all caps scaled down in
proportion when they add up to more than the budget; uncapped departments share what is
left in proportion to their current spend, equally when none has any), then spends it to
maximize the unweighted sum of its own touchpoints' curve qualities, blind to journeys and
dependencies. That is a separable concave problem with one budget per department, so
filling the steepest line pieces first is exact (on the same lines the model uses); pieces
with slope 0 are never bought (least spend on ties).
"""

from collections.abc import Sequence

from optimizer.curves import lines_for
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


def _pieces(problem: PortfolioProblem, t: int) -> list[tuple[float, float]]:
    """(slope, length) of the line pieces of t's curve from its lower to its upper spend."""
    tp = problem.touchpoints[t]
    if tp.upper <= tp.lower:
        return []
    if tp.curve.points is not None:
        pieces = []
        for (s0, q0), (s1, q1) in zip(tp.curve.points, tp.curve.points[1:], strict=False):
            lo, hi = max(s0, tp.lower), min(s1, tp.upper)
            if hi > lo:
                pieces.append(((q1 - q0) / (s1 - s0), hi - lo))
        return pieces
    lines = lines_for(tp.curve, tp.lower, tp.upper)
    bps = lines.breakpoints
    return [(lines.slopes[k], bps[k + 1] - bps[k]) for k in range(len(lines))]


def silo_allocation(
    problem: PortfolioProblem, allotments: Sequence[float] | None = None
) -> list[float]:
    """Each department fills its steepest pieces first until its allotment is spent."""
    allot = silo_allotments(problem) if allotments is None else allotments
    spends = [tp.lower for tp in problem.touchpoints]
    for d, members in enumerate(problem.members):
        left = allot[d] - sum(spends[t] for t in members)
        if left <= 0:
            continue
        pieces = [(slope, length, t) for t in members for slope, length in _pieces(problem, t)]
        # stable sort: within one touchpoint the pieces stay in order (concave: slopes fall)
        pieces.sort(key=lambda p: -p[0])
        for slope, length, t in pieces:
            if left <= 0 or slope <= 0:
                break
            step = min(length, left)
            spends[t] += step
            left -= step
    return spends
