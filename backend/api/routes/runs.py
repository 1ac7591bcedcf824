"""Runs: optimize a scenario and keep the result; read, export, compare, approve the plan."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from backend import crud, exports, idempotency, jobs, runs
from backend.api.deps import (
    CallerDep,
    IdempotencyKey,
    OwnerDep,
    PagingDep,
    PlannerDep,
    PortfolioId,
    SessionDep,
    SettingsDep,
)
from backend.api.route import JsonRoute
from backend.api.routes.jobs import enqueue
from backend.errors import NotFound
from backend.models import (
    ApproveRequest,
    ComparePublic,
    Job,
    JobPublic,
    Page,
    PlanPublic,
    Portfolio,
    Run,
    RunCreate,
    RunInput,
    RunJobCreate,
    RunPublic,
    RunSummary,
    as_utc,
)
from optimizer.ask import AskResult
from optimizer.bridge import Bridge

router = APIRouter(route_class=JsonRoute, tags=["runs"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post(
    "/portfolios/{portfolio_id}/runs",
    status_code=201,
    response_model=RunPublic,
    responses={
        200: {
            "model": RunPublic,
            "description": "The scenario is unchanged since a stored run (same input SHA-256: "
            "document, scenario and overrides): that run, not a new one.",
        },
        202: {
            "model": JobPublic,
            "description": "The portfolio is too large to run in the request (touchpoints x "
            "journeys above JOURNEYFOLIO_SYNC_RUN_MAX_SIZE): a run job was queued instead; the "
            "Location header names it.",
            "headers": {
                "Location": {"description": "/api/v1/jobs/{job_id}", "schema": {"type": "string"}}
            },
        },
    },
)
def create_run(
    *,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    caller: OwnerDep,
    portfolio_id: PortfolioId,
    idempotency_key: IdempotencyKey = None,
    body: RunCreate,
) -> Any:
    """Optimize a scenario (or the portfolio as planned) with optional overrides, and keep it;
    an unchanged one returns its stored run (200); a large portfolio's run is queued (202)."""
    queued: list[tuple[Job, Portfolio]] = []
    payload = {"portfolio_id": portfolio_id, **body.model_dump(mode="json", exclude_unset=True)}
    root = request.scope.get("root_path", "")

    def answer(run: Run, portfolio: Portfolio, *, status_code: int) -> idempotency.Created:
        approved = runs.approved_run_pk(session=session, portfolio=portfolio) == run.pk
        where = f"{root}/api/v1/runs/{run.id}"
        return idempotency.Created(
            body=RunPublic.model_validate(runs.run_public(run, approved=approved)),
            headers={"Location": where} if status_code == 201 else {"Content-Location": where},
            status_code=status_code,
        )

    def create() -> idempotency.Created:
        portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id, consistent=True)
        touchpoints, journeys = jobs.size_of(session=session, portfolio=portfolio)
        if touchpoints * journeys > settings.sync_run_max_size:
            job = jobs.create(
                session=session,
                portfolio=portfolio,
                request=RunJobCreate.model_validate(
                    {**body.model_dump(mode="json", exclude_unset=True), "kind": "run"}
                ),
                caller=caller,
            )
            queued.append((job, portfolio))
            where = f"{root}/api/v1/jobs/{job.id}"
            return idempotency.Created(
                body=JobPublic.model_validate(jobs.public(job, portfolio, root=root)),
                headers={"Location": where},
                status_code=202,
            )
        prepared = runs.prepare(session=session, portfolio=portfolio, request=body)
        twin = runs.stored_twin(session=session, prepared=prepared)
        if twin is not None:
            return answer(twin, portfolio, status_code=200)
        # The solver runs outside a transaction: nothing is locked while it works.
        session.commit()
        result = runs.solve(prepared.problem, time_limit=settings.solver_time_limit)
        # Writers of one portfolio take turns from here: the run number and the twin check
        # see every run stored before (a twin may have finished while this one solved).
        portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id, lock=True)
        twin = runs.stored_twin(session=session, prepared=prepared)
        if twin is not None:
            return answer(twin, portfolio, status_code=200)
        run = runs.store(
            session=session, portfolio=portfolio, prepared=prepared, result=result, caller=caller
        )
        return answer(run, portfolio, status_code=201)

    answer_ = idempotency.create_once(
        session=session,
        caller=caller,
        key=idempotency_key,
        request=request,
        payload=payload,
        response=response,
        ttl_hours=settings.idempotency_ttl_hours,
        create=create,
    )
    if queued:
        return enqueue(request, *queued[0])
    return answer_


@router.get("/portfolios/{portfolio_id}/runs", response_model=Page[RunSummary])
def read_runs(
    *,
    session: SessionDep,
    _caller: CallerDep,
    paging: PagingDep,
    portfolio_id: PortfolioId,
    scenario: Annotated[
        str | None, Query(max_length=64, description="Only this scenario's.")
    ] = None,
) -> Any:
    """List the portfolio's runs, newest first."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id)
    rows, total = runs.list_runs(
        session=session,
        portfolio=portfolio,
        offset=paging.offset,
        limit=paging.limit,
        scenario_id=scenario,
    )
    approved = runs.approved_run_pk(session=session, portfolio=portfolio)
    return {
        "items": [runs.run_summary(r, portfolio, approved=r.pk == approved) for r in rows],
        "total": total,
        "offset": paging.offset,
        "limit": paging.limit,
    }


@router.get("/runs/{run_id}", response_model=RunPublic)
def read_run(*, session: SessionDep, _caller: CallerDep, response: Response, run_id: str) -> Any:
    """One run: the run JSON plus where it is kept."""
    run, portfolio = runs.get_run(session=session, run_id=run_id)
    approved = runs.approved_run_pk(session=session, portfolio=portfolio) == run.pk
    # A run never changes; only whether it is the plan of record does.
    response.headers["ETag"] = f'"{run.result_sha256[:32]}.{int(approved)}"'
    return runs.run_public(run, approved=approved)


@router.get("/runs/{run_id}/input", response_model=RunInput)
def read_run_input(*, session: SessionDep, _caller: CallerDep, run_id: str) -> Any:
    """Everything the run used (document, scenario, overrides): run it again to reproduce."""
    import json

    run, _ = runs.get_run(session=session, run_id=run_id)
    return {"input_sha256": run.input_sha256, **json.loads(run.input_json)}


def _attachment(run: Run, portfolio: Portfolio, ext: str) -> dict[str, str]:
    name = exports.file_name(
        portfolio_id=portfolio.id,
        scenario_id=run.scenario_id,
        number=run.number,
        created_at=as_utc(run.created_at),
        ext=ext,
    )
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get(
    "/runs/{run_id}/allocation.csv",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "One row per touchpoint and a totals row (an infeasible run: one "
            "row per conflict).",
        }
    },
)
def read_allocation_csv(*, session: SessionDep, _caller: CallerDep, run_id: str) -> Response:
    """The run's allocation as CSV: money in cents, names, units, totals (or its conflicts)."""
    run, portfolio = runs.get_run(session=session, run_id=run_id)
    return Response(
        exports.to_csv(runs.result_of(run)),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(run, portfolio, "csv"),
    )


@router.get(
    "/runs/{run_id}/allocation.xlsx",
    response_class=Response,
    responses={
        200: {
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            "description": "Summary, Allocation, Departments, Journeys sheets (an infeasible "
            "run: Summary and Conflicts).",
        }
    },
)
def read_allocation_xlsx(*, session: SessionDep, _caller: CallerDep, run_id: str) -> Response:
    """The run's allocation as an Excel workbook, with a summary sheet."""
    run, portfolio = runs.get_run(session=session, run_id=run_id)
    content = exports.to_xlsx(
        runs.result_of(run), runs.stored_of(session=session, run=run, portfolio=portfolio)
    )
    return Response(content, media_type=XLSX, headers=_attachment(run, portfolio, "xlsx"))


@router.post("/runs/{run_id}/approve", response_model=PlanPublic)
def approve_run(
    *,
    session: SessionDep,
    caller: PlannerDep,
    run_id: str,
    body: ApproveRequest | None = None,
) -> Any:
    """Approve the run as its portfolio's plan of record (replaces the previous plan)."""
    run, portfolio = runs.get_run(session=session, run_id=run_id)
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio.id, lock=True)
    approval = runs.approve(
        session=session,
        portfolio=portfolio,
        run=run,
        caller=caller,
        note=body.note if body else None,
    )
    session.commit()
    return runs.plan_public(portfolio, approval, run)


@router.get("/portfolios/{portfolio_id}/plan", response_model=PlanPublic)
def read_plan(*, session: SessionDep, _caller: CallerDep, portfolio_id: PortfolioId) -> Any:
    """The plan of record: the approved run's allocation, for finance."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id)
    plan = crud.approved_run(session=session, portfolio=portfolio)
    if plan is None:
        raise NotFound(f"portfolio '{portfolio_id}' has no approved plan yet")
    return runs.plan_public(portfolio, plan[0], plan[1])


@router.get("/portfolios/{portfolio_id}/compare", response_model=ComparePublic)
def read_compare(
    *,
    session: SessionDep,
    settings: SettingsDep,
    _caller: CallerDep,
    portfolio_id: PortfolioId,
    runs_: Annotated[
        str,
        Query(
            alias="runs",
            max_length=2000,
            description="Run ids separated by commas; deltas are against the first.",
        ),
    ],
) -> Any:
    """Runs side by side per touchpoint, department and journey, with deltas."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id)
    ids = [part.strip() for part in runs_.split(",") if part.strip()]
    chosen = runs.runs_to_compare(
        session=session, portfolio=portfolio, ids=ids, max_runs=settings.max_compare_runs
    )
    return runs.compare(portfolio=portfolio, runs=chosen)


@router.get("/portfolios/{portfolio_id}/bridge", response_model=Bridge)
def read_bridge(
    *,
    session: SessionDep,
    settings: SettingsDep,
    _caller: CallerDep,
    portfolio_id: PortfolioId,
    start: Annotated[
        str,
        Query(alias="from", min_length=1, max_length=64, description="Run id to start from."),
    ],
    finish: Annotated[
        str, Query(alias="to", min_length=1, max_length=64, description="Run id to end at.")
    ],
) -> Any:
    """Value bridge from one run to another: one group of settings at a time (budget; pooling
    and caps; priorities; floors; locks and excludes; mode; portfolio edits), re-solved; the
    steps' value changes (money) sum to the total to the cent."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id)
    a = runs.run_of_portfolio(session=session, portfolio=portfolio, run_id=start, name="from")
    b = runs.run_of_portfolio(session=session, portfolio=portfolio, run_id=finish, name="to")
    session.commit()  # the solves run outside a transaction
    return runs.bridge_runs(a, b, time_limit=settings.solver_time_limit)


@router.get("/portfolios/{portfolio_id}/bridge/pooled", response_model=Bridge)
def read_pooled_bridge(
    *,
    session: SessionDep,
    settings: SettingsDep,
    _caller: CallerDep,
    portfolio_id: PortfolioId,
    percent: Annotated[
        float,
        Query(gt=0, le=100, description="Budget added in the last step, in % of the budget."),
    ] = 10.0,
) -> Any:
    """The portfolio as planned (department budgets) -> pooled at the same budget -> pooled
    with `percent` % more budget: what pooling buys, and what the extra money alone buys."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id)
    document = crud.export_document(session=session, portfolio=portfolio)
    session.commit()  # the solves run outside a transaction
    return runs.bridge_pooled(document, percent=percent, time_limit=settings.solver_time_limit)


@router.get("/portfolios/{portfolio_id}/ask", response_model=AskResult)
def read_ask(
    *,
    session: SessionDep,
    settings: SettingsDep,
    _caller: CallerDep,
    portfolio_id: PortfolioId,
    journey: Annotated[str, Query(min_length=1, max_length=64, description="The journey asking.")],
    quality: Annotated[float, Query(ge=0, le=1, description="Target experience quality.")],
    scenario: Annotated[
        str | None,
        Query(min_length=1, max_length=64, description="Scenario to price against."),
    ] = None,
) -> Any:
    """The price of a journey owner's ask: the value the portfolio gives up at the same
    budget, and the extra money that reaches the target keeping today's optimal value."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id)
    document = crud.export_document(session=session, portfolio=portfolio)
    session.commit()  # the solves run outside a transaction
    return runs.price_ask(
        document,
        scenario_id=scenario,
        journey=journey,
        quality=quality,
        time_limit=settings.solver_time_limit,
    )
