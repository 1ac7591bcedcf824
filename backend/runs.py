"""Runs: rows -> optimizer problem -> RunResult -> stored run; comparing runs; the plan.

A run stores everything it used as one canonical JSON text (the portfolio document as it was,
the scenario id and the ad-hoc overrides) with its SHA-256, next to the run JSON and its
SHA-256: `reproduce()` computes the same result from the stored input alone. Runs are never
changed afterwards; approving one as the plan of record adds an approval row. The same input
(same document, scenario and overrides, so the same SHA-256) is never stored twice:
`stored_twin()` finds the run that has it. Each run gets the next number of its portfolio
(1, 2, 3...), for people and file names.

The solver runs outside any database transaction (reading and storing are two short ones),
so a long run holds no lock.
"""

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, select

from backend import crud
from backend.errors import Conflict, Invalid, NotFound, RunFailed
from backend.models import PlanApproval, Portfolio, Run, RunCreate, as_utc
from backend.security import Caller
from optimizer.ask import AskResult, ask, missing_journey
from optimizer.bridge import Bridge, End, bridge, pooled_bridge
from optimizer.document import (
    DocumentError,
    PortfolioDocument,
    Problem,
    Scenario,
    document_to_data,
    validate_document,
)
from optimizer.problem import PortfolioProblem, resolve
from optimizer.result import RunResult, SolveError
from optimizer.sheets import Stored
from optimizer.solve import solve as solve_problem

log = logging.getLogger("journeyfolio.runs")


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class PreparedRun:
    """A run ready for the solver: the problem and the input it came from."""

    portfolio_pk: int
    portfolio_version: int
    scenario_id: str | None
    problem: PortfolioProblem
    input_json: str
    input_sha256: str


def overrides_of(request: RunCreate) -> dict[str, Any] | None:
    """The request's ad-hoc overrides (the keys given, nulls left out), or None."""
    data = request.model_dump(mode="json", exclude_unset=True, exclude={"scenario"})
    data = {key: value for key, value in data.items() if value is not None}
    return data or None


def resolve_input(
    document: PortfolioDocument, scenario_id: str | None, overrides: dict[str, Any] | None
) -> PortfolioProblem:
    """The optimizer problem of a document, a scenario and overrides (422 when they do not
    fit the document)."""
    try:
        scenario = (
            Scenario.model_validate({"id": "overrides", "name": "Run overrides", **overrides})
            if overrides
            else None
        )
        return resolve(document, scenario_id, overrides=scenario)
    except DocumentError as error:
        raise Invalid(
            "the run's scenario or overrides do not fit the portfolio",
            problems=error.problems,
            location="body",
        ) from None


def prepare(*, session: Session, portfolio: Portfolio, request: RunCreate) -> PreparedRun:
    """Read the portfolio as it is now and resolve the scenario and overrides on it."""
    document = crud.export_document(session=session, portfolio=portfolio)
    overrides = overrides_of(request)
    problem = resolve_input(document, request.scenario, overrides)
    input_json = canonical_json(
        {
            "document": document_to_data(document),
            "scenario": request.scenario,
            "overrides": overrides,
        }
    )
    assert portfolio.pk is not None
    return PreparedRun(
        portfolio_pk=portfolio.pk,
        portfolio_version=portfolio.version,
        scenario_id=request.scenario,
        problem=problem,
        input_json=input_json,
        input_sha256=sha256(input_json),
    )


def solve(problem: PortfolioProblem, *, time_limit: float) -> RunResult:
    """Optimize; a run the solver cannot finish (its time limit) is a clear 422, not a 500,
    and nothing is stored."""
    try:
        return solve_problem(problem, time_limit=time_limit)
    except SolveError as error:
        raise RunFailed(
            f"the run was stopped without a result: {error} (the time limit is {time_limit:g} "
            f"seconds); nothing was stored"
        ) from None
    except Exception as error:
        # The last line of defence (the document bounds money at 1e15, so no known input
        # gets here): the caller gets a clear answer, the log gets the traceback.
        log.exception("the optimizer failed on portfolio %s", problem.portfolio_id)
        raise RunFailed(
            f"the optimizer cannot compute this portfolio ({type(error).__name__}: {error}); "
            f"check for extreme numbers; nothing was stored"
        ) from None


def stored_twin(*, session: Session, prepared: PreparedRun) -> Run | None:
    """The stored run of the same input (document, scenario, overrides), the newest if a
    database from before the rule holds several."""
    return session.exec(
        select(Run)
        .where(
            Run.portfolio_pk == prepared.portfolio_pk,
            Run.input_sha256 == prepared.input_sha256,
        )
        .order_by(col(Run.pk).desc())
        .limit(1)
    ).first()


def next_number(*, session: Session, portfolio_pk: int) -> int:
    """The portfolio's next run number (call with the portfolio locked: writers take turns)."""
    last = session.exec(select(func.max(Run.number)).where(Run.portfolio_pk == portfolio_pk)).one()
    return (last or 0) + 1


def store(
    *,
    session: Session,
    portfolio: Portfolio,
    prepared: PreparedRun,
    result: RunResult,
    caller: Caller,
) -> Run:
    """Keep the run (call with the portfolio locked, see `next_number`)."""
    result_json = result.model_dump_json()
    try:
        # JSON has no infinity or NaN (pydantic writes null): a result with one cannot be
        # read back, so it is not kept.
        RunResult.model_validate_json(result_json)
    except ValueError:
        log.error("run of portfolio %s has non-finite numbers", portfolio.id)
        raise RunFailed(
            "the optimizer returned numbers that are not finite (check for extreme numbers); "
            "nothing was stored"
        ) from None
    run = Run(
        id=uuid.uuid4().hex,
        portfolio_pk=prepared.portfolio_pk,
        number=next_number(session=session, portfolio_pk=prepared.portfolio_pk),
        portfolio_version=prepared.portfolio_version,
        scenario_id=prepared.scenario_id,
        status=result.status,
        mode=result.mode,
        input_json=prepared.input_json,
        input_sha256=prepared.input_sha256,
        result_json=result_json,
        result_sha256=sha256(result_json),
        value=result.portfolio.value,
        weighted_value=result.portfolio.weighted_value,
        objective=result.portfolio.objective,
        spend=result.portfolio.spend,
        created_by=caller.actor,
    )
    session.add(run)
    session.flush()
    crud.record(
        session=session,
        portfolio_id=portfolio.id,
        caller=caller,
        action="run",
        entity="run",
        entity_id=run.id,
        after={
            "run_id": run.id,
            "number": run.number,
            "scenario": run.scenario_id,
            "status": run.status,
            "input_sha256": run.input_sha256,
            "portfolio_version": run.portfolio_version,
        },
    )
    return run


def reproduce(run: Run, *, time_limit: float) -> RunResult:
    """Solve a stored run's input again."""
    stored = json.loads(run.input_json)
    document = validate_document(stored["document"], limits=crud.NO_LIMITS)
    problem = resolve_input(document, stored["scenario"], stored["overrides"])
    return solve(problem, time_limit=time_limit)


# =========================================================================== reading runs


def get_run(*, session: Session, run_id: str) -> tuple[Run, Portfolio]:
    row = session.exec(
        select(Run, Portfolio)
        .join(Portfolio, col(Portfolio.pk) == col(Run.portfolio_pk))
        .where(Run.id == run_id)
    ).first()
    if row is None:
        raise NotFound(f"no run '{run_id}'")
    return row[0], row[1]


def list_runs(
    *,
    session: Session,
    portfolio: Portfolio,
    offset: int,
    limit: int,
    scenario_id: str | None = None,
) -> tuple[list[Run], int]:
    where = [Run.portfolio_pk == portfolio.pk]
    if scenario_id is not None:
        where.append(Run.scenario_id == scenario_id)
    total = session.exec(select(func.count()).select_from(Run).where(*where)).one()
    rows = session.exec(
        select(Run).where(*where).order_by(col(Run.pk).desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), total


def approved_run_pk(*, session: Session, portfolio: Portfolio) -> int | None:
    plan = crud.approved_run(session=session, portfolio=portfolio)
    return plan[1].pk if plan else None


def info(run: Run, *, approved: bool) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "number": run.number,
        "created_at": as_utc(run.created_at),
        "created_by": run.created_by,
        "input_sha256": run.input_sha256,
        "result_sha256": run.result_sha256,
        "portfolio_version": run.portfolio_version,
        "approved": approved,
    }


def run_public(run: Run, *, approved: bool) -> dict[str, Any]:
    """The run JSON plus where it is kept."""
    return {**json.loads(run.result_json), **info(run, approved=approved)}


def run_summary(run: Run, portfolio: Portfolio, *, approved: bool) -> dict[str, Any]:
    return {
        **info(run, approved=approved),
        "portfolio_id": portfolio.id,
        "scenario_id": run.scenario_id,
        "status": run.status,
        "mode": run.mode,
        "value": run.value,
        "weighted_value": run.weighted_value,
        "objective": run.objective,
        "spend": run.spend,
    }


def result_of(run: Run) -> RunResult:
    return RunResult.model_validate_json(run.result_json)


def stored_of(*, session: Session, run: Run, portfolio: Portfolio) -> Stored:
    """Where the run is kept and whether it is the plan, for an export's summary."""
    plan = crud.approved_run(session=session, portfolio=portfolio)
    if plan is None:
        state = "no: no plan of record approved yet"
    elif plan[1].pk == run.pk:
        state = "yes: this run is the approved plan of record"
    else:
        state = f"no: the plan of record is run {plan[1].number} ({plan[1].id})"
    return Stored(
        portfolio_name=portfolio.name,
        run_id=run.id,
        number=run.number,
        created_at=as_utc(run.created_at),
        input_sha256=run.input_sha256,
        plan=state,
    )


# =========================================================================== the plan


def approve(
    *, session: Session, portfolio: Portfolio, run: Run, caller: Caller, note: str | None
) -> PlanApproval:
    """Make `run` the portfolio's plan of record (only an optimal run can be one)."""
    if run.status != "optimal":
        raise Conflict(
            f"run {run.id} is {run.status}; only an optimal run can be the plan of record"
        )
    current = crud.approved_run(session=session, portfolio=portfolio)
    if current is not None and current[1].pk == run.pk:
        return current[0]
    assert run.pk is not None
    assert portfolio.pk is not None
    approval = PlanApproval(
        portfolio_pk=portfolio.pk, run_pk=run.pk, note=note, approved_by=caller.actor
    )
    session.add(approval)
    crud.touch(portfolio)
    session.flush()
    crud.record(
        session=session,
        portfolio_id=portfolio.id,
        caller=caller,
        action="approve",
        entity="plan",
        entity_id=portfolio.id,
        before={"run_id": current[1].id} if current else None,
        after={"run_id": run.id, "note": note, "input_sha256": run.input_sha256},
    )
    return approval


def plan_public(portfolio: Portfolio, approval: PlanApproval, run: Run) -> dict[str, Any]:
    result = result_of(run)
    return {
        "portfolio_id": portfolio.id,
        "run_id": run.id,
        "scenario_id": run.scenario_id,
        "approved_at": as_utc(approval.approved_at),
        "approved_by": approval.approved_by,
        "note": approval.note,
        "input_sha256": run.input_sha256,
        "currency": result.currency,
        "status": result.status,
        "value": result.portfolio.value,
        "spend": result.portfolio.spend,
        "budget": result.portfolio.budget,
        "unallocated": result.portfolio.unallocated,
        "touchpoints": [
            {
                "id": t.id,
                "name": t.name,
                "department": t.department,
                "channel": t.channel,
                "spend": t.spend,
                "current_spend": t.current_spend,
                "change": t.change,
            }
            for t in result.touchpoints
        ],
        "departments": [
            {
                "id": d.id,
                "name": d.name,
                "spend": d.spend,
                "current_spend": d.current_spend,
                "cap": d.cap,
            }
            for d in result.departments
        ],
    }


# =========================================================================== compare


def _row(
    item_id: str,
    name: str,
    per_run: list[Any | None],
    fields: tuple[str, ...],
) -> dict[str, Any]:
    row: dict[str, Any] = {"id": item_id, "name": name}
    for field in fields:
        values = [getattr(item, field) if item is not None else None for item in per_run]
        base = values[0]
        row[field] = values
        row[f"{field}_delta"] = [
            None if value is None or base is None else value - base for value in values
        ]
    return row


def _side_by_side(
    results: list[RunResult], attribute: str, fields: tuple[str, ...]
) -> list[dict[str, Any]]:
    order: dict[str, str] = {}
    maps = []
    for result in results:
        items = {item.id: item for item in getattr(result, attribute)}
        maps.append(items)
        for item_id, item in items.items():
            order.setdefault(item_id, getattr(item, "name", item_id))
    return [
        _row(item_id, name, [items.get(item_id) for items in maps], fields)
        for item_id, name in order.items()
    ]


def compare(*, portfolio: Portfolio, runs: list[Run]) -> dict[str, Any]:
    """The runs side by side per touchpoint, department and journey; deltas against the first
    run (null where a run does not have the item, e.g. the portfolio changed in between)."""
    results = [result_of(run) for run in runs]
    journeys = _side_by_side(results, "journeys", ("quality", "value", "attributed_cost"))
    for row in journeys:
        # Spend of a journey is its attributed cost.
        row["spend"] = row.pop("attributed_cost")
        row["spend_delta"] = row.pop("attributed_cost_delta")
    return {
        "portfolio_id": portfolio.id,
        "currency": results[0].currency if results else "",
        "runs": [
            {
                "run_id": run.id,
                "number": run.number,
                "scenario_id": run.scenario_id,
                "status": result.status,
                "mode": result.mode,
                "created_at": as_utc(run.created_at),
                "budget": result.portfolio.budget,
                "value": result.portfolio.value,
                "weighted_value": result.portfolio.weighted_value,
                "objective": result.portfolio.objective,
                "spend": result.portfolio.spend,
                "unallocated": result.portfolio.unallocated,
                "price_of_silos": result.price_of_silos,
                "price_of_silos_value": result.price_of_silos_value,
            }
            for run, result in zip(runs, results, strict=True)
        ],
        "touchpoints": _side_by_side(results, "touchpoints", ("spend", "quality")),
        "departments": _side_by_side(results, "departments", ("spend",)),
        "journeys": journeys,
    }


def runs_to_compare(
    *, session: Session, portfolio: Portfolio, ids: list[str], max_runs: int
) -> list[Run]:
    """The runs named in `?runs=a,b,...`, in that order (each once, all of this portfolio)."""
    problems = []
    if not ids:
        problems.append(Problem("runs", "name at least one run: ?runs=a,b"))
    if len(ids) > max_runs:
        problems.append(Problem("runs", f"{len(ids)} runs exceed the limit of {max_runs}"))
    seen = set()
    for i, run_id in enumerate(ids):
        if run_id in seen:
            problems.append(Problem(f"runs[{i}]", f"run '{run_id}' is named twice"))
        seen.add(run_id)
    if problems:
        raise Invalid(
            "the list of runs to compare is not usable", problems=problems, location="query"
        )
    rows = {
        run.id: run
        for run in session.exec(
            select(Run).where(Run.portfolio_pk == portfolio.pk, col(Run.id).in_(ids))
        ).all()
    }
    missing = [run_id for run_id in ids if run_id not in rows]
    if missing:
        raise NotFound(
            f"portfolio '{portfolio.id}' has no run {', '.join(repr(m) for m in missing)}"
        )
    return [rows[run_id] for run_id in ids]


# =========================================================================== bridges


def run_of_portfolio(*, session: Session, portfolio: Portfolio, run_id: str, name: str) -> Run:
    """One of the portfolio's runs (404 naming the query parameter when there is none)."""
    run = session.exec(
        select(Run).where(Run.portfolio_pk == portfolio.pk, Run.id == run_id)
    ).first()
    if run is None:
        raise NotFound(f"portfolio '{portfolio.id}' has no run '{run_id}' (?{name}=)")
    return run


def bridge_end(run: Run) -> End:
    """A stored run's input as one end of a bridge (re-solved by the bridge)."""
    stored = json.loads(run.input_json)
    document = validate_document(stored["document"], limits=crud.NO_LIMITS)
    problem = resolve_input(document, stored["scenario"], stored["overrides"])
    label = stored["scenario"] or "base"
    if stored["overrides"]:
        label += " with overrides"
    return End(document, problem, label, run_id=run.id, stored_value=run.value)


def bridge_runs(start: Run, finish: Run, *, time_limit: float) -> Bridge:
    """The value bridge from one stored run's input to another's."""
    return bridge(
        bridge_end(start), bridge_end(finish), solve=lambda p: solve(p, time_limit=time_limit)
    )


def bridge_pooled(document: PortfolioDocument, *, percent: float, time_limit: float) -> Bridge:
    """A portfolio as planned: department budgets -> pooled -> pooled, `percent` % more."""
    return pooled_bridge(document, percent=percent, solve=lambda p: solve(p, time_limit=time_limit))


# =========================================================================== asks


def price_ask(
    document: PortfolioDocument,
    *,
    scenario_id: str | None,
    journey: str,
    quality: float,
    time_limit: float,
) -> AskResult:
    """What one journey at a target quality costs the portfolio as it is now (422 naming
    the query parameter for an unknown scenario or journey)."""
    try:
        problem = resolve(document, scenario_id)
    except DocumentError as error:
        raise Invalid(
            "the scenario does not fit the portfolio", problems=error.problems, location="query"
        ) from None
    missing = missing_journey(problem, journey)
    if missing is not None:
        raise Invalid(
            "the ask names no journey that claims budget in this scenario",
            problems=[Problem("journey", missing)],
            location="query",
        )
    try:
        return ask(problem, journey, quality, time_limit=time_limit)
    except SolveError as error:
        raise RunFailed(f"the ask could not be priced: {error}") from None
    except ValueError as error:
        raise Invalid(
            "the ask cannot be priced",
            problems=[Problem("scenario", str(error))],
            location="query",
        ) from None
