"""The value of an allocation on the true curves: one formula for the optimum and baselines.

effective quality  e_t = min(q_t(x_t), e_u for every u that t requires)
experience         E_j = min(sum_t w'_jt e_t, min over critical links of e_t)
journey value      value_j * E_j;  weighted: priority_j * value_j * E_j
"""

from collections.abc import Sequence
from dataclasses import dataclass

from optimizer.curves import evaluate
from optimizer.problem import PortfolioProblem


@dataclass(frozen=True)
class Evaluation:
    spends: tuple[float, ...]
    curve_qualities: tuple[float, ...]
    qualities: tuple[float, ...]
    """Effective qualities (dependency caps applied)."""
    experiences: tuple[float, ...]
    values: tuple[float, ...]
    weighted_values: tuple[float, ...]

    @property
    def value(self) -> float:
        return sum(self.values)

    @property
    def weighted_value(self) -> float:
        return sum(self.weighted_values)

    @property
    def spend(self) -> float:
        return sum(self.spends)


def requirements(problem: PortfolioProblem) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in problem.touchpoints]
    for t, u in problem.requires:
        out[t].append(u)
    return out


def topological_order(problem: PortfolioProblem) -> list[int]:
    """Touchpoints ordered so that every requirement comes before what requires it."""
    requires = requirements(problem)
    order: list[int] = []
    state = [0] * len(problem.touchpoints)
    for root in range(len(problem.touchpoints)):
        if state[root]:
            continue
        stack = [(root, 0)]
        while stack:
            t, i = stack.pop()
            if i == 0:
                if state[t]:
                    continue
                state[t] = 1
            if i < len(requires[t]):
                stack.append((t, i + 1))
                u = requires[t][i]
                if not state[u]:
                    stack.append((u, 0))
            else:
                state[t] = 2
                order.append(t)
    return order


def effective_qualities(
    problem: PortfolioProblem, curve_qualities: Sequence[float], order: Sequence[int] | None = None
) -> list[float]:
    requires = requirements(problem)
    effective = list(curve_qualities)
    for t in order if order is not None else topological_order(problem):
        for u in requires[t]:
            if effective[u] < effective[t]:
                effective[t] = effective[u]
    return effective


def experience(problem: PortfolioProblem, j: int, qualities: Sequence[float]) -> float:
    links = problem.journeys[j].links
    average = sum(link.weight * qualities[link.touchpoint] for link in links)
    critical = [qualities[link.touchpoint] for link in links if link.critical]
    return min([average, *critical]) if critical else average


def evaluate_allocation(problem: PortfolioProblem, spends: Sequence[float]) -> Evaluation:
    curve_qualities = [
        evaluate(tp.curve, x) for tp, x in zip(problem.touchpoints, spends, strict=True)
    ]
    qualities = effective_qualities(problem, curve_qualities)
    experiences = [
        min(1.0, experience(problem, j, qualities)) for j in range(len(problem.journeys))
    ]
    values = [journey.value * e for journey, e in zip(problem.journeys, experiences, strict=True)]
    weighted = [journey.priority * v for journey, v in zip(problem.journeys, values, strict=True)]
    return Evaluation(
        spends=tuple(spends),
        curve_qualities=tuple(curve_qualities),
        qualities=tuple(qualities),
        experiences=tuple(experiences),
        values=tuple(values),
        weighted_values=tuple(weighted),
    )


def violations(
    problem: PortfolioProblem, evaluation: Evaluation, *, tolerance: float = 1e-6
) -> list[str]:
    """What keeps an allocation from being feasible for the problem's scenario."""
    out: list[str] = []
    money_tol = tolerance * max(1.0, problem.budget)
    for tp, x in zip(problem.touchpoints, evaluation.spends, strict=True):
        if tp.locked and abs(x - tp.lower) > money_tol:
            out.append(f"touchpoint {tp.id}: spend {x:,.0f} differs from its lock {tp.lower:,.0f}")
        elif x < tp.lower - money_tol:
            out.append(f"touchpoint {tp.id}: spend {x:,.0f} is below its minimum {tp.lower:,.0f}")
        elif x > tp.upper + money_tol:
            what = "excluded, held at min spend" if tp.excluded else "maximum"
            out.append(f"touchpoint {tp.id}: spend {x:,.0f} is above its {what} {tp.upper:,.0f}")
    total = evaluation.spend
    if problem.mode != "min_spend" and total > problem.budget + money_tol:
        out.append(f"budget: spend {total:,.0f} exceeds the budget {problem.budget:,.0f}")
    for d, cap in problem.department_caps.items():
        spent = sum(evaluation.spends[t] for t in problem.members[d])
        if spent > cap + money_tol:
            dept = problem.departments[d].id
            out.append(f"department {dept}: spend {spent:,.0f} exceeds its cap {cap:,.0f}")
    for journey, e in zip(problem.journeys, evaluation.experiences, strict=True):
        if journey.floor is not None and e < journey.floor - tolerance:
            out.append(
                f"journey {journey.id}: quality {e:.3f} is below its floor {journey.floor:.3f}"
            )
    return out
