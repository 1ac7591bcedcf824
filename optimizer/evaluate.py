"""The value of an allocation on the true curves: one formula for the optimum and baselines.

effective quality  e_t = min(q_t(x_t), e_u for every u that t requires)
experience         E_j = min(sum_t w'_jt e_t, min over critical links of e_t)
journey value      value_j * E_j;  weighted: priority_j * value_j * E_j
"""

import graphlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.curves import CurveTable
from optimizer.objective import objective_for
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
        return math.fsum(self.values)

    @property
    def weighted_value(self) -> float:
        return math.fsum(self.weighted_values)

    @property
    def spend(self) -> float:
        return math.fsum(self.spends)


def requirements(problem: PortfolioProblem) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in problem.touchpoints]
    for t, u in problem.requires:
        out[t].append(u)
    return out


def topological_order(problem: PortfolioProblem) -> list[int]:
    """Touchpoints ordered so that every requirement comes before what requires it."""
    requires = requirements(problem)
    graph = {t: requires[t] for t in range(len(problem.touchpoints))}
    return list(graphlib.TopologicalSorter(graph).static_order())


def run_starts(keys: np.ndarray) -> np.ndarray:
    """Where each run of equal keys starts in a sorted array (none for an empty one)."""
    if not keys.size:
        return np.zeros(0, dtype=int)
    return np.flatnonzero(np.r_[True, np.diff(keys) != 0])


class Structure:
    """The problem's shape as numpy arrays: curves, dependency edges, journey links."""

    def __init__(self, problem: PortfolioProblem) -> None:
        self.curves = CurveTable([tp.curve for tp in problem.touchpoints])
        requires = requirements(problem)
        self.edges = [(t, u) for t in topological_order(problem) for u in requires[t]]
        link_j, link_t, link_w, critical = [], [], [], []
        for j, journey in enumerate(problem.journeys):
            for link in journey.links:
                link_j.append(j)
                link_t.append(link.touchpoint)
                link_w.append(link.weight)
                critical.append(link.critical)
        self.link_j = np.array(link_j, dtype=int)
        self.link_t = np.array(link_t, dtype=int)
        self.link_w = np.array(link_w, dtype=float)
        mask = np.array(critical, dtype=bool)
        self.crit_j, self.crit_t = self.link_j[mask], self.link_t[mask]
        # links come journey by journey (every journey has one at least): a journey's sum or
        # minimum over its links is one reduceat over the runs that start here
        self.link_starts = run_starts(self.link_j)
        self.crit_starts = run_starts(self.crit_j)
        self.crit_journeys = self.crit_j[self.crit_starts]
        self.values = np.array([j.value for j in problem.journeys], dtype=float)
        self.priorities = np.array([j.priority for j in problem.journeys], dtype=float)
        self.weights = self.priorities * self.values

    def experiences(self, curve_qualities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Effective qualities and journey experiences from curve qualities, for one
        allocation (touchpoints,) or many at once (samples, touchpoints)."""
        q = np.array(curve_qualities, dtype=float)
        for t, u in self.edges:  # requirements come first: q[..., u] is already effective
            np.minimum(q[..., t], q[..., u], out=q[..., t])
        if not self.link_t.size:
            return q, np.zeros(q.shape[:-1] + (0,))
        experience = np.add.reduceat(q[..., self.link_t] * self.link_w, self.link_starts, axis=-1)
        if self.crit_t.size:
            weakest = np.minimum.reduceat(q[..., self.crit_t], self.crit_starts, axis=-1)
            cap = experience[..., self.crit_journeys]
            experience[..., self.crit_journeys] = np.minimum(cap, weakest)
        return q, np.minimum(experience, 1.0)

    @staticmethod
    def of(problem: PortfolioProblem) -> "Structure":
        structure = problem.cache.get("structure")
        if not isinstance(structure, Structure):
            structure = problem.cache["structure"] = Structure(problem)
        return structure


def evaluate_allocation(problem: PortfolioProblem, spends: Sequence[float]) -> Evaluation:
    s = Structure.of(problem)
    curve_q = s.curves.evaluate(np.asarray(spends, dtype=float))
    q, experiences = s.experiences(curve_q)
    values = s.values * experiences
    weighted = s.priorities * values
    return Evaluation(
        spends=tuple(float(x) for x in spends),
        curve_qualities=tuple(curve_q.tolist()),
        qualities=tuple(q.tolist()),
        experiences=tuple(experiences.tolist()),
        values=tuple(values.tolist()),
        weighted_values=tuple(weighted.tolist()),
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
    if objective_for(problem.mode).budget_binds and total > problem.budget + money_tol:
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


def value_gradient(
    problem: PortfolioProblem, evaluation: Evaluation, eps: float = 1e-12
) -> list[float]:
    """Weighted value gained per unit of curve quality of each touchpoint (right derivative),
    through the journeys' weakest links and the dependency caps."""
    qualities = evaluation.qualities
    effective_gradient = [0.0] * len(problem.touchpoints)
    for journey in problem.journeys:
        weight = journey.priority * journey.value
        if weight <= 0:
            continue
        links = journey.links
        average = sum(link.weight * qualities[link.touchpoint] for link in links)
        critical = [link for link in links if link.critical]
        weakest = min(critical, key=lambda link: qualities[link.touchpoint]) if critical else None
        low = qualities[weakest.touchpoint] if weakest else float("inf")
        tied = [link for link in critical if qualities[link.touchpoint] <= low + eps]
        if weakest is not None and low < average - eps:
            if len(tied) == 1:
                effective_gradient[weakest.touchpoint] += weight
        elif weakest is not None and low <= average + eps:
            if len(tied) == 1:  # raising the weakest raises both the cap and the average
                effective_gradient[weakest.touchpoint] += weight * weakest.weight
        else:
            for link in links:
                effective_gradient[link.touchpoint] += weight * link.weight
    requires = requirements(problem)
    gradient = [0.0] * len(problem.touchpoints)
    # dependents first: a touchpoint passes its gradient to what caps it
    for t in reversed(topological_order(problem)):
        g = effective_gradient[t]
        if g == 0:
            continue
        caps = [u for u in requires[t] if qualities[u] <= qualities[t] + eps]
        if not caps:
            gradient[t] += g
        elif len(caps) == 1 and evaluation.curve_qualities[t] > qualities[t] + eps:
            effective_gradient[caps[0]] += g
    return gradient
