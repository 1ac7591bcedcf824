"""A value bridge: from one run (a document and a scenario) to another, one group of settings
at a time, so that every step's change in value is named and the steps add up to the total.

Order (fixed, never rearranged to dodge an infeasible step), each group taken from B while
the later ones stay as in A, re-solving after each (`resolve` + `solve`):

1. ``budget``      the total budget
2. ``pooling``     pooled or not, and every department cap
3. ``launch``      idea journeys launched (they start to claim budget, with the document's
                   own priority and floor until the next steps)
4. ``priorities``  journey priorities
5. ``floors``      journey floors
6. ``locks``       locked spends and excluded touchpoints
7. ``mode``        the objective mode
8. ``portfolio``   edits to the portfolio between the two inputs: document A (with all of
                   B's settings) -> document B with B's scenario

Settings are the effective ones (the document's own caps, priorities and floors with the
scenario and any overrides applied), compared per id. On document A, a setting of B that
refers to something A does not have (a journey added later, a lock outside A's spend range)
waits for the ``portfolio`` step.

A group that does not differ is left out of ``steps`` and named in ``unchanged``.

Values are money: ``portfolio.value`` of each re-solve (journey value on the true curves,
unweighted), rounded to cents before differences are taken, so the steps sum to the total
to the cent. ``weighted_value_change`` is the priority-weighted twin, labelled as such.

An infeasible state has no value. Its step reports ``status: "infeasible"``, its conflicts,
and no value or spend change; the next feasible step is measured from the last feasible
state and names the steps it therefore also carries (``includes``). The total still equals
the sum of the steps. When an endpoint (A or B) is infeasible there is no total
(``status: "infeasible"``, ``total: null``); the steps between feasible states still say
what they change.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from optimizer.document import PortfolioDocument, Scenario, document_to_data
from optimizer.problem import PortfolioProblem, resolve
from optimizer.result import RunResult
from optimizer.tables import _grid as grid

BRIDGE_FORMAT: Final = "journeyfolio-bridge/v1"

StepName = Literal[
    "budget", "pooling", "launch", "priorities", "floors", "locks", "mode", "portfolio"
]

ORDER: Final[tuple[StepName, ...]] = (
    "budget",
    "pooling",
    "launch",
    "priorities",
    "floors",
    "locks",
    "mode",
    "portfolio",
)
"""The fixed order in which a bridge changes the groups of settings."""

LABELS: Final[dict[str, str]] = {
    "budget": "Budget",
    "pooling": "Pooling and department caps",
    "launch": "Launched ideas",
    "priorities": "Priorities",
    "floors": "Floors",
    "locks": "Locks and excludes",
    "mode": "Objective mode",
    "portfolio": "Edits to the portfolio",
}


# =========================================================================== the JSON


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class BridgeEnd(_Part):
    """One end of the bridge: the run it stands for, as re-solved for the bridge."""

    label: str
    scenario_id: str | None
    """The scenario (None: the document as planned, `base`)."""
    run_id: str | None = None
    """The stored run this end stands for (API bridges of runs)."""
    status: Literal["optimal", "infeasible"]
    value: float | None
    """Money, rounded to cents; None when infeasible."""
    spend: float | None
    budget: float
    pooled: bool
    mode: str
    stored_value: float | None = None
    """The stored run's own value (equal to `value` unless the optimizer changed since)."""
    conflicts: list[str] = []


class BridgeStep(_Part):
    name: StepName
    label: str
    changes: list[str]
    """What this step changes, in words (`budget 1,800,000 -> 1,980,000`)."""
    status: Literal["optimal", "infeasible"]
    """Of the re-solve after this step."""
    value_change: float | None
    """Money of value this step adds (cents); None when its re-solve is infeasible."""
    spend_change: float | None
    """Money of spend this step adds (cents); None when infeasible."""
    weighted_value_change: float | None
    """Priority-weighted value this step adds (not money: priorities weight it)."""
    value: float | None
    """Value after this step (cents)."""
    spend: float | None
    includes: list[StepName] = []
    """Earlier infeasible steps whose effect this step's change also carries."""
    budget_change: float | None = None
    """Budget step only: money added to the total budget."""
    value_per_extra_unit: float | None = None
    """Budget step only: value_change / budget_change (money of value per unit of money)."""
    conflicts: list[str] = []
    """Why the re-solve after this step is infeasible."""


class Bridge(_Part):
    format: Literal["journeyfolio-bridge/v1"] = BRIDGE_FORMAT
    portfolio_id: str
    from_: BridgeEnd = Field(alias="from")
    to: BridgeEnd
    currency: str
    status: Literal["optimal", "infeasible"]
    """`optimal` when both ends are; then total = to_value - from_value = sum of steps."""
    from_value: float | None
    to_value: float | None
    total: float | None
    """to_value - from_value, money, cents; the steps' value changes sum to it exactly."""
    order: list[StepName]
    """The order the groups were changed in."""
    steps: list[BridgeStep]
    unchanged: list[StepName]
    """Groups in which the two ends do not differ (no step for them)."""

    def to_json(self, *, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent, by_alias=True)


# =========================================================================== settings


@dataclass(frozen=True)
class Settings:
    """The effective settings of a resolved problem, by id."""

    budget: float
    pooled: bool
    caps: dict[str, float | None]
    priorities: dict[str, float]
    floors: dict[str, float | None]
    locks: dict[str, float]
    excluded: frozenset[str]
    mode: str
    touchpoints: frozenset[str]
    """Every touchpoint of the document (locks and excludes speak about these)."""
    launched: frozenset[str] = frozenset()
    """Idea journeys launched (the others claim no budget)."""

    @classmethod
    def of(cls, problem: PortfolioProblem) -> "Settings":
        return cls(
            budget=problem.budget,
            pooled=problem.pooled,
            caps={d.id: d.cap for d in problem.departments},
            priorities={j.id: j.priority for j in problem.journeys},
            floors={j.id: j.floor for j in problem.journeys},
            locks={t.id: t.lower for t in problem.touchpoints if t.locked},
            excluded=frozenset(t.id for t in problem.touchpoints if t.excluded),
            mode=problem.mode,
            touchpoints=frozenset(t.id for t in problem.touchpoints),
            launched=problem.launched,
        )

    def overrides(self) -> Scenario:
        """Every setting as an explicit scenario (resolved on the document it came from)."""
        return Scenario.model_validate(
            {
                "id": "bridge",
                "name": "Bridge step",
                "budget": self.budget,
                "pooled": self.pooled,
                "mode": self.mode,
                "priorities": self.priorities,
                "floors": self.floors,
                "locks": self.locks,
                "exclude": sorted(self.excluded),
                "departments": self.caps,
                "launch": sorted(self.launched),
            }
        )


def take(group: StepName, current: Settings, target: Settings, doc: PortfolioDocument) -> Settings:
    """`current` (settings on `doc`) with `group` as in `target`, for the ids `doc` has."""
    if group == "budget":
        return replace(current, budget=target.budget)
    if group == "mode":
        return replace(current, mode=target.mode)
    if group == "pooling":
        caps = {d: target.caps.get(d, cap) for d, cap in current.caps.items()}
        return replace(current, pooled=target.pooled, caps=caps)
    if group == "launch":
        ideas = {j.id: j for j in doc.journeys if j.lifecycle == "idea"}
        launched = frozenset(j for j in target.launched if j in ideas)
        priorities = {
            j: p for j, p in current.priorities.items() if j not in ideas or j in launched
        }
        floors = {j: f for j, f in current.floors.items() if j not in ideas or j in launched}
        for j in launched - current.launched:
            priorities[j] = ideas[j].priority
            floors[j] = ideas[j].floor
        return replace(current, launched=launched, priorities=priorities, floors=floors)
    if group == "priorities":
        priorities = {j: target.priorities.get(j, p) for j, p in current.priorities.items()}
        return replace(current, priorities=priorities)
    if group == "floors":
        floors = {j: target.floors.get(j, f) for j, f in current.floors.items()}
        return replace(current, floors=floors)
    assert group == "locks"
    locks = dict(current.locks)
    excluded = set(current.excluded)
    for tp in doc.touchpoints:
        if tp.id not in target.touchpoints:
            continue  # not in B's document: the portfolio step removes it
        lock = target.locks.get(tp.id)
        if lock is not None and not tp.min_spend <= lock <= tp.max_spend:
            continue  # B's lock does not fit A's spend range: the portfolio step
        locks.pop(tp.id, None)
        excluded.discard(tp.id)
        if lock is not None:
            locks[tp.id] = lock
        elif tp.id in target.excluded:
            excluded.add(tp.id)
    return replace(current, locks=locks, excluded=frozenset(excluded))


def _money(x: float | None) -> str:
    return "none" if x is None else f"{x:,.0f}"


def _number(x: float | None) -> str:
    return "none" if x is None else f"{x:g}"


def _lock_state(s: Settings, t: str) -> str:
    if t in s.locks:
        return f"locked at {_money(s.locks[t])}"
    return "excluded" if t in s.excluded else "free"


def describe(group: StepName, a: Settings, b: Settings) -> list[str]:
    """The changes of one group from `a` to `b` (settings on one document), in words."""
    out: list[str] = []
    if group == "budget" and a.budget != b.budget:
        out.append(f"budget {_money(a.budget)} -> {_money(b.budget)}")
    elif group == "mode" and a.mode != b.mode:
        out.append(f"mode {a.mode} -> {b.mode}")
    elif group == "pooling":
        if a.pooled != b.pooled:
            out.append("pooled (department caps ignored)" if b.pooled else "department caps apply")
        out += [
            f"cap of {d} {_money(cap)} -> {_money(b.caps[d])}"
            for d, cap in a.caps.items()
            if b.caps.get(d, cap) != cap
        ]
    elif group == "launch":
        out += [f"launch {j}" for j in sorted(b.launched - a.launched)]
        out += [f"no longer launch {j}" for j in sorted(a.launched - b.launched)]
    elif group == "priorities":
        out += [
            f"priority of {j} {_number(p)} -> {_number(b.priorities[j])}"
            for j, p in a.priorities.items()
            if b.priorities.get(j, p) != p
        ]
    elif group == "floors":
        out += [
            f"floor of {j} {_number(f)} -> {_number(b.floors[j])}"
            for j, f in a.floors.items()
            if b.floors.get(j, f) != f
        ]
    elif group == "locks":
        for t in sorted(set(a.locks) | set(b.locks) | a.excluded | b.excluded):
            before, after = _lock_state(a, t), _lock_state(b, t)
            if before != after:
                out.append(f"{t}: {before} -> {after}")
    return out


def document_changes(a: PortfolioDocument, b: PortfolioDocument) -> list[str]:
    """What differs between two portfolio documents (scenarios aside), by kind and id."""
    da, db = document_to_data(a), document_to_data(b)
    out: list[str] = []
    for key in sorted((set(da) | set(db)) - {"scenarios"}):
        va, vb = da.get(key), db.get(key)
        if va == vb:
            continue
        if isinstance(va, list) and isinstance(vb, list):
            ia, ib = _by_id(va), _by_id(vb)
            added = [k for k in ib if k not in ia]
            removed = [k for k in ia if k not in ib]
            changed = [k for k in ia if k in ib and ia[k] != ib[k]]
            for what, ids in (("added", added), ("removed", removed), ("changed", changed)):
                if ids:
                    out.append(f"{key} {what}: {', '.join(ids)}")
            if not (added or removed or changed):
                out.append(f"{key} reordered")
        else:
            out.append(f"{key} changed")
    return out


def _by_id(items: list[Any]) -> dict[str, Any]:
    """List items by id (dependencies by `touchpoint->requires`)."""
    out: dict[str, Any] = {}
    for k, item in enumerate(items):
        if isinstance(item, dict) and "id" in item:
            out[str(item["id"])] = item
        elif isinstance(item, dict) and "touchpoint" in item:
            out[f"{item['touchpoint']}->{item.get('requires')}"] = item
        else:
            out[f"[{k}]"] = item
    return out


# =========================================================================== walking


@dataclass(frozen=True)
class End:
    """One end of a bridge: a document and the problem resolved from it."""

    document: PortfolioDocument
    problem: PortfolioProblem
    label: str
    run_id: str | None = None
    stored_value: float | None = None
    """The stored run's value, when the end stands for one."""


Solver = Callable[[PortfolioProblem], RunResult]


def _cents(x: float) -> int:
    return round(x * 100)


@dataclass(frozen=True)
class _State:
    """A re-solve along the bridge, after the step `name` (None: the start)."""

    name: StepName | None
    changes: list[str]
    run: RunResult
    budget: float


def _end(end: End, run: RunResult) -> BridgeEnd:
    optimal = run.status == "optimal"
    return BridgeEnd(
        label=end.label,
        scenario_id=end.problem.scenario_id,
        run_id=end.run_id,
        status=run.status,
        value=_cents(run.portfolio.value) / 100 if optimal else None,
        spend=_cents(run.portfolio.spend) / 100 if optimal else None,
        budget=end.problem.budget,
        pooled=end.problem.pooled,
        mode=end.problem.mode,
        stored_value=end.stored_value,
        conflicts=[c.message for c in run.conflicts],
    )


def _steps(states: Sequence[_State]) -> list[BridgeStep]:
    """Each state after the first as a step: its difference to the last feasible state."""
    steps: list[BridgeStep] = []
    last = states[0] if states[0].run.status == "optimal" else None
    skipped: list[StepName] = []
    previous_budget = states[0].budget
    for state in states[1:]:
        assert state.name is not None
        run = state.run
        optimal = run.status == "optimal"
        value = spend = value_change = spend_change = weighted_change = None
        if optimal:
            value = _cents(run.portfolio.value) / 100
            spend = _cents(run.portfolio.spend) / 100
            if last is not None:
                p, q = last.run.portfolio, run.portfolio
                value_change = (_cents(q.value) - _cents(p.value)) / 100
                spend_change = (_cents(q.spend) - _cents(p.spend)) / 100
                weighted_change = (_cents(q.weighted_value) - _cents(p.weighted_value)) / 100
        budget_change = per_unit = None
        if state.name == "budget":
            budget_change = state.budget - previous_budget
            if value_change is not None and budget_change:
                per_unit = value_change / budget_change
        steps.append(
            BridgeStep(
                name=state.name,
                label=LABELS[state.name],
                changes=state.changes,
                status=run.status,
                value_change=value_change,
                spend_change=spend_change,
                weighted_value_change=weighted_change,
                value=value,
                spend=spend,
                includes=skipped if value_change is not None else [],
                budget_change=budget_change,
                value_per_extra_unit=per_unit,
                conflicts=[c.message for c in run.conflicts],
            )
        )
        previous_budget = state.budget
        if optimal:
            last, skipped = state, []
        else:
            skipped = [*skipped, state.name]
    return steps


def assemble(
    start: End, finish: End, states: Sequence[_State], order: Sequence[StepName]
) -> Bridge:
    """The bridge JSON of a walk: `states[0]` is the start's run, `states[-1]` the finish's."""
    first, final = states[0].run, states[-1].run
    from_end, to_end = _end(start, first), _end(finish, final)
    both = from_end.value is not None and to_end.value is not None
    walked = {s.name for s in states[1:]}
    total = None
    if both:
        total = (_cents(final.portfolio.value) - _cents(first.portfolio.value)) / 100
    return Bridge.model_validate(
        {
            "portfolio_id": finish.problem.portfolio_id,
            "from": from_end,
            "to": to_end,
            "currency": finish.problem.currency,
            "status": "optimal" if both else "infeasible",
            "from_value": from_end.value,
            "to_value": to_end.value,
            "total": total,
            "order": list(order),
            "steps": _steps(states),
            "unchanged": [name for name in order if name not in walked],
        }
    )


def bridge(start: End, finish: End, *, solve: Solver) -> Bridge:
    """The value bridge from `start` to `finish`, one group of settings at a time in the
    fixed order `ORDER`, re-solving after each.

    Parameters
    ----------
    start, finish
        The two ends: a document and the problem resolved from it (scenario, overrides).
    solve
        Solves one problem (`optimizer.solve.solve` with the caller's options).

    Returns
    -------
    Bridge
        The groups that differ as steps, each re-solved; values in money, to the cent.
    """
    a, b = Settings.of(start.problem), Settings.of(finish.problem)
    states = [_State(None, [], solve(start.problem), start.problem.budget)]
    current = a
    for group in ORDER[:-1]:
        following = take(group, current, b, start.document)
        if following == current:
            continue
        problem = resolve(start.document, None, overrides=following.overrides())
        changes = describe(group, current, following)
        states.append(_State(group, changes, solve(problem), problem.budget))
        current = following
    final = solve(finish.problem)
    edits = document_changes(start.document, finish.document)
    if edits or current != b:
        states.append(_State("portfolio", edits, final, finish.problem.budget))
    elif len(states) > 1:
        # the last group reached B's settings on B's document: B's own run is that state
        states[-1] = replace(states[-1], run=final)
    elif _cents(final.portfolio.value) != _cents(states[0].run.portfolio.value) or (
        final.status != states[0].run.status
    ):
        # nothing differs, yet the two re-solves do: say so rather than lose the difference
        note = ["no setting and nothing in the portfolio differs; the re-solves do"]
        states.append(_State("portfolio", note, final, finish.problem.budget))
    return assemble(start, finish, states, ORDER)


def pooled_bridge(document: PortfolioDocument, *, percent: float = 10.0, solve: Solver) -> Bridge:
    """The Portfolio page's question in two one-group bridges chained: the portfolio as
    planned (department caps) -> pooled at the same budget -> pooled with `percent` % more
    budget. Each link changes one group only, so the fixed order is kept within each; the
    chain asks pooling first because that is the question (`order` says so).
    """
    base = resolve(document)
    budget = round(base.budget * (1 + percent / 100), 2)
    pooled = resolve(document, pooled=True)
    bigger = resolve(document, pooled=True, budget=budget)
    sa, sp, sb = Settings.of(base), Settings.of(pooled), Settings.of(bigger)
    states = [
        _State(None, [], solve(base), base.budget),
        _State("pooling", describe("pooling", sa, sp), solve(pooled), pooled.budget),
        _State("budget", describe("budget", sp, sb), solve(bigger), bigger.budget),
    ]
    start = End(document, base, "As planned (department budgets)")
    finish = End(document, bigger, f"Pooled, {percent:+g} % budget")
    return assemble(start, finish, states, ["pooling", "budget"])


# =========================================================================== for people


def _cents_text(x: float | None, *, signed: bool = False) -> str:
    if x is None:
        return "-"
    if signed and round(x, 2) == 0:
        return "0.00"
    return f"{x:+,.2f}" if signed else f"{x:,.2f}"


def bridge_text(result: Bridge, *, portfolio_name: str | None = None) -> str:
    """The bridge as a table a person reads: money to the cent, so the total line is the sum
    of the step lines exactly; what each step changes below the table."""
    cur = result.currency
    a, b = result.from_, result.to
    title = portfolio_name or result.portfolio_id
    out = [f"{title}: value bridge from '{a.label}' to '{b.label}' (money in {cur})", ""]
    rows = [[f"from {a.label}", _cents_text(a.value), _cents_text(a.spend), a.status]]
    notes = []
    for k, step in enumerate(result.steps, 1):
        said = list(step.changes)
        if step.value_per_extra_unit is not None:
            said.append(f"{step.value_per_extra_unit:.4f} {cur} of value per extra {cur} of budget")
        if step.includes:
            carried = ", ".join(LABELS[n].lower() for n in step.includes)
            said.append(f"the change also carries {carried} (infeasible on its own)")
        if step.status != "optimal":
            said.append("infeasible: " + "; ".join(step.conflicts))
        notes.append(f"  {k}. {step.label}: " + "; ".join(said))
        rows.append(
            [
                f"{k}. {step.label}",
                _cents_text(step.value_change, signed=True),
                _cents_text(step.spend_change, signed=True),
                step.status,
            ]
        )
    rows.append([f"to {b.label}", _cents_text(b.value), _cents_text(b.spend), b.status])
    out += grid(["", f"value ({cur})", f"spend ({cur})", "re-solve"], rows, {1, 2})
    out.append("")
    if result.total is not None:
        spend_total = None
        if a.spend is not None and b.spend is not None:
            spend_total = (_cents(b.spend) - _cents(a.spend)) / 100
        out.append(
            f"  Total: {_cents_text(result.total, signed=True)} {cur} of value, "
            f"{_cents_text(spend_total, signed=True)} {cur} of spend: the sum of the "
            f"{len(result.steps)} step(s) above."
        )
    else:
        for end in (a, b):
            if end.status != "optimal":
                out.append(f"  No total: '{end.label}' is infeasible: " + "; ".join(end.conflicts))
    out += ["", *notes] if notes else []
    out.append("")
    out.append(
        "  Order: " + ", ".join(LABELS[n].lower() for n in result.order) + "; each step re-solves."
    )
    if result.unchanged:
        out.append("  Unchanged: " + ", ".join(LABELS[n].lower() for n in result.unchanged) + ".")
    return "\n".join(out) + "\n"
