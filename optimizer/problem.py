"""The problem the model is built from: a portfolio with one scenario applied.

`resolve()` turns a validated document plus a scenario (and command-line or API
overrides) into frozen, index-based data: positions instead of ids, so the model, the
baselines and the result all speak about touchpoint ``i`` and journey ``j`` the same way.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from optimizer.document import (
    MODES,
    DocumentError,
    Mode,
    PortfolioDocument,
    Problem,
    Scenario,
    scenario_problems,
)
from optimizer.document import (
    Curve as DocumentCurve,
)

CurveForm = Literal["points", "saturating", "hill", "exponential", "logistic"]


@dataclass(frozen=True, slots=True)
class Curve:
    """A response curve: `points` (piecewise linear, flat after the last point) or a
    concave formula (optimizer/curves.py) from `base` to `top`:

    - saturating: base + (top - base) * x / (x + half_spend)
    - hill: base + (top - base) * x^shape / (x^shape + half_spend^shape), shape <= 1
    - exponential: base + (top - base) * (1 - exp(-x / scale))
    - logistic: base + (top - base) * (1 - exp(-lam x)) / (1 + exp(-lam x))
    """

    points: tuple[tuple[float, float], ...] | None = None
    base: float = 0.0
    top: float = 0.0
    half_spend: float = 1.0
    form: CurveForm = "saturating"
    shape: float = 1.0
    scale: float = 1.0
    lam: float = 1.0

    def __post_init__(self) -> None:
        if self.points is not None and self.form != "points":
            object.__setattr__(self, "form", "points")

    @property
    def is_points(self) -> bool:
        return self.points is not None


@dataclass(frozen=True, slots=True)
class TouchpointData:
    id: str
    name: str
    department: int
    channel: str
    current_spend: float
    min_spend: float
    max_spend: float
    curve: Curve
    lower: float
    """Lowest spend this scenario allows (min_spend, or the lock)."""
    upper: float
    """Highest spend this scenario allows (max_spend, the lock, or min_spend when excluded)."""
    locked: bool = False
    excluded: bool = False


@dataclass(frozen=True, slots=True)
class LinkData:
    touchpoint: int
    weight: float
    """Normalized weight w'_jt: the journey's weights sum to 1."""
    critical: bool


@dataclass(frozen=True, slots=True)
class JourneyData:
    id: str
    name: str
    persona: str
    owner: str | None
    value: float
    priority: float
    floor: float | None
    links: tuple[LinkData, ...]


@dataclass(frozen=True, slots=True)
class LeftOutData:
    """A journey, or its floor, that this scenario leaves out because of its lifecycle."""

    journey: str
    name: str
    lifecycle: Literal["idea", "sunset"]
    part: Literal["journey", "floor"]
    reason: str


@dataclass(frozen=True, slots=True)
class DepartmentData:
    id: str
    name: str
    cap: float | None
    """The cap of the department in this scenario (before pooling)."""


@dataclass(frozen=True)
class PortfolioProblem:
    portfolio_id: str
    portfolio_name: str
    currency: str
    scenario_id: str | None
    scenario_name: str
    mode: Mode
    budget: float
    pooled: bool
    departments: tuple[DepartmentData, ...]
    touchpoints: tuple[TouchpointData, ...]
    journeys: tuple[JourneyData, ...]
    requires: tuple[tuple[int, int], ...]
    """Dependencies as (t, u): touchpoint t requires touchpoint u."""
    members: tuple[tuple[int, ...], ...] = field(init=False)
    """Touchpoint positions of each department."""
    value_floor: float | None = None
    """Priority-weighted value the allocation must keep (a journey owner's ask priced
    without lowering the portfolio's optimum); None: no such constraint."""
    launched: frozenset[str] = frozenset()
    """Idea journeys a scenario launched (they are among `journeys`)."""
    left_out: tuple[LeftOutData, ...] = ()
    """Journeys (ideas not launched) and floors (of sunset journeys) the lifecycle leaves
    out of this problem; `journeys` holds only the journeys that claim budget."""
    cache: dict[str, object] = field(default_factory=dict, compare=False, repr=False)
    """Derived structure (numpy tables) shared by copies that differ in budget or mode."""

    def __post_init__(self) -> None:
        members: list[list[int]] = [[] for _ in self.departments]
        for i, tp in enumerate(self.touchpoints):
            members[tp.department].append(i)
        object.__setattr__(self, "members", tuple(tuple(m) for m in members))

    @property
    def department_caps(self) -> dict[int, float]:
        """The caps that bind in this scenario: none when pooled."""
        if self.pooled:
            return {}
        return {d: dept.cap for d, dept in enumerate(self.departments) if dept.cap is not None}

    def with_budget(self, budget: float) -> "PortfolioProblem":
        return replace(self, budget=budget)


def problem_curve(curve: DocumentCurve) -> Curve:
    """The optimizer's view of a document curve."""
    c = curve
    if c.points is not None:
        return Curve(points=tuple((float(s), float(q)) for s, q in c.points), form="points")
    if c.hill is not None:
        h = c.hill
        return Curve(base=h.base, top=h.max, half_spend=h.half_spend, shape=h.shape, form="hill")
    if c.exponential is not None:
        e = c.exponential
        return Curve(base=e.base, top=e.max, scale=e.scale, form="exponential")
    if c.logistic is not None:
        g = c.logistic
        return Curve(base=g.base, top=g.max, lam=g.lam, form="logistic")
    sat = c.saturating
    assert sat is not None
    return Curve(base=sat.base, top=sat.max, half_spend=sat.half_spend)


def resolve(
    doc: PortfolioDocument,
    scenario_id: str | None = None,
    *,
    mode: str | None = None,
    budget: float | None = None,
    pooled: bool | None = None,
    overrides: Scenario | None = None,
) -> PortfolioProblem:
    """Apply a scenario of the document (or none), then explicit overrides.

    `overrides` is an ad-hoc scenario (its id is not looked up); its keys apply on top of
    the named scenario. `mode`, `budget` and `pooled` override both.

    Lifecycle (DOMAIN.md): an `idea` journey claims no budget unless a scenario launches it
    (`launch`), so it is not among the problem's journeys; a `sunset` journey keeps no floor
    unless a scenario sets one. Both are listed in `left_out`, with the reason.

    Raises
    ------
    DocumentError
        When the scenario does not exist or an override refers to nothing.
    """
    problems: list[Problem] = []
    scenarios: list[Scenario] = []
    if scenario_id is not None:
        try:
            scenarios.append(doc.scenario(scenario_id))
        except KeyError:
            known = ", ".join(s.id for s in doc.scenarios) or "none"
            raise DocumentError(
                [Problem("scenario", f"unknown scenario '{scenario_id}' (known: {known})")]
            ) from None
    if overrides is not None:
        problems += scenario_problems(doc, overrides, "overrides")
        scenarios.append(overrides)
    if mode is not None and mode not in MODES:
        problems.append(Problem("mode", f"unknown mode '{mode}' (one of {', '.join(MODES)})"))
    if budget is not None and not (budget >= 0 and budget != float("inf")):
        problems.append(Problem("budget", "must be a finite number >= 0"))
    if problems:
        raise DocumentError(problems)

    eff_budget = doc.budget
    eff_pooled = False
    eff_mode: str = "max_value"
    priorities: dict[str, float] = {}
    floors: dict[str, float | None] = {}
    locks: dict[str, float] = {}
    excluded: set[str] = set()
    launched: set[str] = set()
    caps: dict[str, float | None] = {d.id: d.budget for d in doc.departments}
    for scenario in scenarios:
        fields = scenario.model_fields_set
        if scenario.budget is not None:
            eff_budget = scenario.budget
        if "pooled" in fields:
            eff_pooled = scenario.pooled
        if "mode" in fields:
            eff_mode = scenario.mode
        priorities.update(scenario.priorities)
        floors.update(scenario.floors)
        for ref, spend in scenario.locks.items():
            locks[ref] = spend
            excluded.discard(ref)
        for ref in scenario.exclude:
            excluded.add(ref)
            locks.pop(ref, None)
        caps.update(scenario.departments)
        launched.update(scenario.launch)
    if budget is not None:
        eff_budget = budget
    if pooled is not None:
        eff_pooled = pooled
    if mode is not None:
        eff_mode = mode

    dept_index = {d.id: i for i, d in enumerate(doc.departments)}
    departments = tuple(DepartmentData(d.id, d.name, caps[d.id]) for d in doc.departments)

    touchpoints = []
    for tp in doc.touchpoints:
        curve = problem_curve(tp.curve)
        lower, upper = tp.min_spend, tp.max_spend
        if tp.id in locks:
            lower = upper = locks[tp.id]
        elif tp.id in excluded:
            upper = lower
        touchpoints.append(
            TouchpointData(
                id=tp.id,
                name=tp.name,
                department=dept_index[tp.department],
                channel=tp.channel,
                current_spend=tp.current_spend,
                min_spend=tp.min_spend,
                max_spend=tp.max_spend,
                curve=curve,
                lower=lower,
                upper=upper,
                locked=tp.id in locks,
                excluded=tp.id in excluded,
            )
        )
    tp_index = {t.id: i for i, t in enumerate(doc.touchpoints)}

    journeys = []
    left_out: list[LeftOutData] = []
    for journey in doc.journeys:
        total = sum(link.weight for link in journey.touchpoints)
        links = tuple(
            LinkData(tp_index[link.touchpoint], link.weight / total, link.critical)
            for link in journey.touchpoints
        )
        if journey.lifecycle == "idea" and journey.id not in launched:
            reason = "an idea: it claims no budget until a scenario launches it"
            if journey.id in floors or journey.id in priorities:
                reason += " (this scenario's floor or priority for it does not apply)"
            left_out.append(LeftOutData(journey.id, journey.name, "idea", "journey", reason))
            continue
        floor = floors[journey.id] if journey.id in floors else journey.floor
        if journey.lifecycle == "sunset" and journey.id not in floors and floor is not None:
            left_out.append(
                LeftOutData(
                    journey.id,
                    journey.name,
                    "sunset",
                    "floor",
                    f"sunset: its floor {floor:g} is not kept (a scenario may set one)",
                )
            )
            floor = None
        journeys.append(
            JourneyData(
                id=journey.id,
                name=journey.name,
                persona=journey.persona,
                owner=journey.owner,
                value=journey.value,
                priority=priorities.get(journey.id, journey.priority),
                floor=floor,
                links=links,
            )
        )
    requires = tuple((tp_index[d.touchpoint], tp_index[d.requires]) for d in doc.dependencies)
    scenario_name = scenarios[0].name if scenario_id is not None else "Portfolio as planned"
    return PortfolioProblem(
        portfolio_id=doc.id,
        portfolio_name=doc.name,
        currency=doc.currency,
        scenario_id=scenario_id,
        scenario_name=scenario_name,
        mode=eff_mode,  # type: ignore[arg-type]  # a str checked against MODES above
        budget=eff_budget,
        pooled=eff_pooled,
        departments=departments,
        touchpoints=tuple(touchpoints),
        journeys=tuple(journeys),
        requires=requires,
        launched=frozenset(j.id for j in doc.journeys if j.lifecycle == "idea") & launched,
        left_out=tuple(left_out),
    )


def link_index(problem: PortfolioProblem) -> Sequence[Mapping[int, float]]:
    """For each touchpoint, {journey: w'_jt} of the journeys it serves."""
    out: list[dict[int, float]] = [{} for _ in problem.touchpoints]
    for j, journey in enumerate(problem.journeys):
        for link in journey.links:
            out[link.touchpoint][j] = link.weight
    return out
