"""Jobs: long work on the task queue (a big run, a frontier, robustness, a bridge), with
progress; start, read, list, cancel."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlmodel import Session, select

from backend import crud, jobs
from backend.api.deps import CallerDep, OwnerDep, PagingDep, PortfolioId, SessionDep
from backend.api.errors import PROBLEM_JSON
from backend.api.route import JsonRoute
from backend.errors import Conflict, NotFound, QueueUnavailable
from backend.models import (
    Job,
    JobCreate,
    JobPublic,
    JobStatus,
    JobSummary,
    Page,
    Portfolio,
    utcnow,
)

router = APIRouter(route_class=JsonRoute, tags=["jobs"])

ACCEPTED = {
    "model": JobPublic,
    "description": "Queued; the Location header names the job (poll it for progress).",
    "headers": {
        "Location": {"description": "The job: /api/v1/jobs/{job_id}", "schema": {"type": "string"}}
    },
}


def queue_of(request: Request) -> jobs.JobQueue:
    queue: jobs.JobQueue = request.app.state.queue
    return queue


def root_of(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def enqueue(request: Request, job: Job, portfolio: Portfolio) -> JSONResponse:
    """Put a committed job on the queue; its 202 answer. A queue that cannot take it fails
    the job (with the reason) and answers 503."""
    queue = queue_of(request)
    try:
        queue.enqueue(job.id)
    except Exception as error:
        detail = (
            f"the task queue {queue.settings.queue_location().split('@')[-1]} does not take jobs: "
            f"{type(error).__name__}: {error}"
        )
        with Session(queue.engine) as session:
            row = session.exec(select(Job).where(Job.id == job.id)).one()
            row.status, row.message = "failed", detail
            row.error = jobs.problem(503, detail)
            row.finished_at = utcnow()
            session.add(row)
            session.commit()
        raise QueueUnavailable(detail, headers={"Retry-After": "30"}) from None
    root = root_of(request)
    body = JobPublic.model_validate(jobs.public(job, portfolio, root=root))
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"{root}/api/v1/jobs/{job.id}"},
    )


@router.post(
    "/portfolios/{portfolio_id}/jobs",
    status_code=202,
    response_model=JobPublic,
    responses={202: ACCEPTED},
)
def create_job(
    *,
    request: Request,
    session: SessionDep,
    caller: OwnerDep,
    portfolio_id: PortfolioId,
    body: JobCreate,
) -> Any:
    """Start a job: a run, a frontier, a robustness analysis or a bridge; 202 and where to
    follow it."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id)
    jobs.check_request(session=session, portfolio=portfolio, request=body)
    job = jobs.create(session=session, portfolio=portfolio, request=body, caller=caller)
    session.commit()
    return enqueue(request, job, portfolio)


@router.get("/portfolios/{portfolio_id}/jobs", response_model=Page[JobSummary])
def read_jobs(
    *,
    request: Request,
    session: SessionDep,
    _caller: CallerDep,
    paging: PagingDep,
    portfolio_id: PortfolioId,
    kind: Annotated[
        Literal["run", "frontier", "robustness", "bridge"] | None,
        Query(description="Only jobs of this kind."),
    ] = None,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this state.")] = None,
) -> Any:
    """List the portfolio's jobs, newest first (without their results)."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id)
    rows, total = jobs.list_jobs(
        session=session,
        portfolio=portfolio,
        offset=paging.offset,
        limit=paging.limit,
        kind=kind,
        status=status,
    )
    root = root_of(request)
    return {
        "items": [jobs.summary(row, portfolio, root=root) for row in rows],
        "total": total,
        "offset": paging.offset,
        "limit": paging.limit,
    }


@router.get("/jobs/{job_id}", response_model=JobPublic)
def read_job(*, request: Request, session: SessionDep, _caller: CallerDep, job_id: str) -> Any:
    """A job: status, progress and message; the result when done, the problem when failed."""
    job, portfolio = jobs.get_job(session=session, job_id=job_id)
    return jobs.public(job, portfolio, root=root_of(request))


@router.get(
    "/jobs/{job_id}/result",
    responses={
        200: {"description": "The result (for a run job, the run's summary)."},
        409: {
            "description": "Not done (yet): queued, running or cancelled; or failed on the "
            "server's side (a lost worker, an unexpected error): the job's problem, as 409."
        },
        422: {"description": "The job failed: its problem (the 4xx status it has)."},
    },
)
def read_job_result(
    *, request: Request, session: SessionDep, _caller: CallerDep, job_id: str
) -> Any:
    """A done job's result; a failed job's problem (problem+json, with the job's status)."""
    job, _ = jobs.get_job(session=session, job_id=job_id)
    if job.status == "done" and job.result_json is not None:
        return Response(job.result_json, media_type="application/json")
    if job.status == "failed" and job.error:
        error = dict(job.error)
        error["instance"] = request.url.path
        if int(error["status"]) >= 500:
            # the job failed on the server's side, but this request did not: it asks for a
            # result the job's state (failed) does not have
            error["job_status"] = error["status"]
            error["status"] = 409
        return JSONResponse(error, status_code=int(error["status"]), media_type=PROBLEM_JSON)
    raise Conflict(
        f"job {job.id} is {job.status}: it has no result"
        + ("" if job.status == "cancelled" else f" yet (progress {job.progress:.0%})")
    )


@router.delete(
    "/jobs/{job_id}",
    response_model=JobPublic,
    responses={
        202: {"model": JobPublic, "description": "Running: it stops at its next progress point."},
        409: {"description": "The job has ended already."},
    },
)
def delete_job(*, request: Request, session: SessionDep, caller: OwnerDep, job_id: str) -> Any:
    """Cancel a job: a queued one at once (200), a running one at its next progress point
    (202)."""
    job = session.exec(select(Job).where(Job.id == job_id).with_for_update()).first()
    if job is None:
        raise NotFound(f"no job '{job_id}'")
    portfolio = session.exec(select(Portfolio).where(Portfolio.pk == job.portfolio_pk)).one()
    now = jobs.cancel(session=session, job=job, portfolio=portfolio, caller=caller)
    session.commit()
    body = JobPublic.model_validate(jobs.public(job, portfolio, root=root_of(request)))
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if now else 202)
