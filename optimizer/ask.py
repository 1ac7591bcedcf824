"""The price of a journey owner's ask: what it takes to bring one journey to a target quality.

Two prices, both against the whole portfolio (the scenario as it is, department caps as in
the document unless the scenario pools them):

- **at the same budget**: the optimum with the journey's floor raised to the target; what
  the portfolio's value changes by (money), and which journeys lose most;
- **with more money**: the least total spend that reaches the target without lowering the
  portfolio's current optimal priority-weighted value (a min_spend run with the target as
  the journey's floor and that value kept, `value_floor`), and so the extra money it takes.

For each, the touchpoints whose spend changes, shared ones first (those that serve other
journeys too), and the other journeys whose quality rises with them. An unreachable target
says why (the run's conflicts) and, when money cannot reach it at all, the highest quality
that can be reached.
"""

from dataclasses import replace

from pydantic import BaseModel, ConfigDict

from optimizer.problem import PortfolioProblem
from optimizer.result import RunResult, SolveError
from optimizer.solve import solve

LOSERS = 5
REACHED = 1e-6
"""A journey this close to its target quality has reached it."""
MOVED = 1e-6
"""Relative change below which a spend or a quality counts as unchanged."""


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Figures(Part):
    value: float
    """Money: the sum of journey values on the true curves."""
    weighted_value: float
    spend: float
    quality: float
    """The asking journey's quality."""


class JourneyChange(Part):
    id: str
    name: str
    quality_change: float
    value_change: float


class SameBudget(Part):
    value: float
    weighted_value: float
    value_change: float
    """Money the rest of the portfolio gives up (negative) for the ask, at the same budget."""
    weighted_value_change: float
    losers: list[JourneyChange]
    """The journeys that lose most value, largest loss first."""
    helped: list[JourneyChange]
    """Other journeys whose value rises with the ask (shared touchpoints)."""


class ExtraBudget(Part):
    spend: float
    """Least total spend that reaches the target and keeps the current optimal weighted value."""
    extra: float
    """spend - the current optimum's spend (never negative)."""
    helped: list[JourneyChange]


class TouchpointChange(Part):
    id: str
    name: str
    shared: bool
    """Serves journeys other than the asking one."""
    same_budget: float | None
    """Spend change at the same budget (None where that price has no answer)."""
    extra_budget: float | None
    """Spend change with more money."""


class AskResult(Part):
    format: str = "journeyfolio-ask/v1"
    portfolio_id: str
    scenario_id: str | None
    currency: str
    journey: str
    journey_name: str
    target: float
    base: Figures
    same_budget: SameBudget | None
    extra_budget: ExtraBudget | None
    changes: list[TouchpointChange]
    reason: str | None
    """Why a price has no answer (null when both have one)."""
    highest_reachable: float | None
    """The highest quality the journey can reach with any money, when the target is beyond it."""


def with_floor(problem: PortfolioProblem, journey: int, target: float) -> PortfolioProblem:
    journeys = list(problem.journeys)
    floor = max(journeys[journey].floor or 0.0, target)
    journeys[journey] = replace(journeys[journey], floor=floor)
    return replace(problem, journeys=tuple(journeys), cache={})


def _journey_changes(before: RunResult, after: RunResult, skip: str) -> list[JourneyChange]:
    old = {j.id: j for j in before.journeys}
    out = []
    for j in after.journeys:
        if j.id == skip or j.id not in old:
            continue
        change = j.value - old[j.id].value
        if abs(change) > MOVED * max(1.0, abs(old[j.id].value)):
            out.append(
                JourneyChange(
                    id=j.id,
                    name=j.name,
                    quality_change=j.quality - old[j.id].quality,
                    value_change=change,
                )
            )
    return out


def _quality(run: RunResult, journey: str) -> float:
    return next(j.quality for j in run.journeys if j.id == journey)


def _reason(run: RunResult) -> str:
    return "; ".join(c.message for c in run.conflicts) or f"the run is {run.status}"


def missing_journey(problem: PortfolioProblem, journey_id: str) -> str | None:
    """Why an ask cannot name this journey (unknown, or an idea the scenario does not
    launch), or None when it is one of the problem's journeys."""
    if any(j.id == journey_id for j in problem.journeys):
        return None
    for x in problem.left_out:
        if x.journey == journey_id and x.part == "journey":
            return (
                f"journey '{journey_id}' is {x.reason}: price the ask in a scenario that "
                "launches it"
            )
    return f"unknown journey '{journey_id}'"


def ask(
    problem: PortfolioProblem, journey_id: str, target: float, *, time_limit: float | None = None
) -> AskResult:
    """Price bringing `journey_id` to quality `target` in `problem` (a resolved scenario).

    `time_limit` applies to each of the three runs.

    Raises
    ------
    ValueError
        For an unknown journey, a target outside [0, 1], or a scenario whose own optimum is
        infeasible (nothing to price against).
    """
    ids = [j.id for j in problem.journeys]
    missing = missing_journey(problem, journey_id)
    if missing is not None:
        raise ValueError(missing)
    if not 0.0 <= target <= 1.0:
        raise ValueError(f"the target quality {target:g} is outside [0, 1]")
    j = ids.index(journey_id)
    base = solve(problem, time_limit=time_limit)
    if base.status != "optimal":
        raise ValueError(f"the scenario itself cannot be met: {_reason(base)}")
    p = base.portfolio
    figures = Figures(
        value=p.value,
        weighted_value=p.weighted_value,
        spend=p.spend,
        quality=_quality(base, journey_id),
    )
    reasons: list[str] = []
    highest: float | None = None

    same = solve(with_floor(problem, j, target), time_limit=time_limit)
    same_budget = None
    if same.status == "optimal":
        moved = _journey_changes(base, same, journey_id)
        same_budget = SameBudget(
            value=same.portfolio.value,
            weighted_value=same.portfolio.weighted_value,
            value_change=same.portfolio.value - p.value,
            weighted_value_change=same.portfolio.weighted_value - p.weighted_value,
            losers=sorted((c for c in moved if c.value_change < 0), key=lambda c: c.value_change)[
                :LOSERS
            ],
            helped=sorted((c for c in moved if c.value_change > 0), key=lambda c: -c.value_change),
        )
    else:
        reasons.append(f"at the same budget: {_reason(same)}")
        for conflict in same.conflicts:
            if conflict.constraint == f"floor:{journey_id}" and conflict.unit == "quality":
                highest = target - conflict.shortfall

    # today's optimum is known to within its certified gap: keep it to that precision, so
    # that the chords' own shortfall is not priced as money the ask needs
    keep = p.weighted_value * (1.0 - base.solver.approximation_gap)
    kept = replace(with_floor(problem, j, target), mode="min_spend", value_floor=keep)
    extra_budget = None
    more: RunResult | None = None
    if figures.quality >= target - REACHED:
        more = base  # already there: no money moves
    else:
        try:
            more = solve(kept, time_limit=time_limit)
        except SolveError as error:
            reasons.append(f"with more money: {error}")
    if more is not None and more.status == "optimal":
        # within the optimum's certified gap the least spend may come out a little below
        # today's: then the ask costs no extra money
        extra = max(0.0, more.portfolio.spend - p.spend)
        extra_budget = ExtraBudget(
            spend=p.spend + extra,
            extra=extra,
            helped=sorted(
                (c for c in _journey_changes(base, more, journey_id) if c.value_change > 0),
                key=lambda c: -c.value_change,
            ),
        )
    elif more is not None:
        reasons.append(f"with more money: {_reason(more)}")

    served: dict[str, set[str]] = {t.id: set(t.journeys) for t in base.touchpoints}
    spend0 = {t.id: t.spend for t in base.touchpoints}
    spend1 = {t.id: t.spend for t in same.touchpoints} if same_budget else {}
    spend2 = {t.id: t.spend for t in more.touchpoints} if extra_budget and more else {}
    moves: list[TouchpointChange] = []
    for t in base.touchpoints:
        a = spend1[t.id] - spend0[t.id] if t.id in spend1 else None
        b = spend2[t.id] - spend0[t.id] if t.id in spend2 else None
        tol = MOVED * max(1.0, t.max_spend)
        if all(d is None or abs(d) <= tol for d in (a, b)):
            continue
        moves.append(
            TouchpointChange(
                id=t.id,
                name=t.name,
                shared=bool(served[t.id] - {journey_id}),
                same_budget=a,
                extra_budget=b,
            )
        )
    moves.sort(key=lambda c: (not c.shared, -abs(c.same_budget or c.extra_budget or 0.0)))
    return AskResult(
        portfolio_id=problem.portfolio_id,
        scenario_id=problem.scenario_id,
        currency=problem.currency,
        journey=journey_id,
        journey_name=problem.journeys[j].name,
        target=target,
        base=figures,
        same_budget=same_budget,
        extra_budget=extra_budget,
        changes=moves,
        reason="; ".join(reasons) or None,
        highest_reachable=highest,
    )
