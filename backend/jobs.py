"""Jobs: long work (a big run, a frontier, a robustness analysis, a bridge) done by a worker.

The API writes a job row (status `queued`) and puts its id on the task queue
(backend/queue.py, huey); a worker takes it, claims the row (`running`), reports progress
into it, and ends it `done` (with the result), `failed` (with an RFC 9457 problem) or
`cancelled`. The database is the truth about a job: the queue only carries ids.

- Input and result are stored like a run's: canonical JSON with its SHA-256 (runs.py). The
  input is read when a worker starts the job: the portfolio as it is then (its version is
  kept with the job), the scenario, the overrides and the job's parameters. A `run` job
  stores an ordinary run (the same input SHA-256 as POST .../runs would give) and links it.
- Progress: the optimizer's long loops call a callback (optimizer/progress.py) at each step;
  it writes the share done and a message, and is where a cancel takes effect: the next
  progress point after DELETE /jobs/{id} stops the job.
- Ownership: a worker claims a job with a conditional update (`queued` -> `running`,
  attempts + 1), and every later write names that attempt, so a worker that lost the job
  (see below) can no longer change it. A second message for the same job finds it claimed
  and is dropped.
- Dead workers: a worker beats a heartbeat into its running jobs every
  `job_heartbeat_seconds` (from its own thread, also while the solver works). Every worker,
  at start and then at each heartbeat interval, looks for running jobs without a heartbeat
  for `job_stale_seconds`: those are queued again (`attempts` counts the starts) up to
  `job_max_attempts`, then failed with the reason. So a killed worker's job is never
  `running` forever. Queued jobs whose message was lost (a Redis restart) are put on the
  queue again the same way.
"""

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import sqlalchemy as sa
from huey.signals import SIGNAL_INTERRUPTED
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from backend import crud, runs
from backend.config import Settings
from backend.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from backend.models import (
    BridgeJobCreate,
    FrontierJobCreate,
    Job,
    Journey,
    Portfolio,
    RobustnessJobCreate,
    RunCreate,
    RunJobCreate,
    RunSummary,
    Scenario,
    Touchpoint,
    as_utc,
    utcnow,
)
from backend.queue import TASK_NAME, make_huey
from backend.security import RANK, Caller, Role
from optimizer.document import Problem
from optimizer.progress import Progress, scaled

log = logging.getLogger("journeyfolio.jobs")

KINDS = ("run", "frontier", "robustness", "bridge")
FINISHED = frozenset({"done", "failed", "cancelled"})
JOB_TABLE = Job.__table__  # type: ignore[attr-defined]
PROGRESS_INTERVAL = 0.25
"""Seconds between two progress writes of one job (the last one is always written)."""

JobRequest = RunJobCreate | FrontierJobCreate | RobustnessJobCreate | BridgeJobCreate


class JobCancelled(Exception):
    """Raised at a progress point of a job someone cancelled."""


class JobLost(Exception):
    """The job is no longer this worker's (it was given up as stale and queued again)."""


# =========================================================================== the queue


class JobQueue:
    """The task queue as one process sees it: huey (made on first use, so an app that never
    starts a job touches no queue), the database engine and the settings."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self._huey: Any = None
        self._task: Any = None
        self._lock = threading.Lock()

    @property
    def huey(self) -> Any:
        with self._lock:
            if self._huey is None:
                huey = make_huey(self.settings)
                self._task = huey.task(name=TASK_NAME)(self._execute)
                huey.signal(SIGNAL_INTERRUPTED)(self._interrupted)
                self._huey = huey
            return self._huey

    def enqueue(self, job_id: str) -> None:
        """Put the job on the queue (call after its row is committed)."""
        _ = self.huey
        self._task(job_id)

    def pending_ids(self) -> set[str]:
        """Ids of the jobs whose message waits on the queue."""
        return {str(task.args[0]) for task in self.huey.pending() if task.args}

    def _execute(self, job_id: str) -> None:
        execute(job_id, queue=self)

    def _interrupted(self, _signal: str, task: Any, *_args: Any, **_kwargs: Any) -> None:
        """A worker stopping (SIGTERM) with this job running: queue it again now, without
        waiting for its heartbeat to go stale."""
        job_id = str(task.args[0])
        with self.engine.begin() as connection:
            changed = connection.execute(
                sa.update(JOB_TABLE)
                .where(JOB_TABLE.c.id == job_id, JOB_TABLE.c.status == "running")
                .values(status="queued", message="its worker was stopped; queued again")
            ).rowcount
        if changed:
            self.enqueue(job_id)

    def consumer(self) -> Any:
        """A huey consumer of this queue: `worker_threads` threads, polled often."""
        return self.huey.create_consumer(
            workers=self.settings.worker_threads,
            worker_type="thread",
            periodic=False,
            initial_delay=0.05,
            backoff=1.5,
            max_delay=0.5,
            check_worker_health=True,
        )


# =========================================================================== creating


def size_of(*, session: Session, portfolio: Portfolio) -> tuple[int, int]:
    """(touchpoints, journeys) of the portfolio, counted in the database."""
    touchpoints = session.exec(
        select(func.count()).select_from(Touchpoint).where(Touchpoint.portfolio_pk == portfolio.pk)
    ).one()
    journeys = session.exec(
        select(func.count()).select_from(Journey).where(Journey.portfolio_pk == portfolio.pk)
    ).one()
    return touchpoints, journeys


def check_request(*, session: Session, portfolio: Portfolio, request: JobRequest) -> None:
    """What can be checked cheaply before queueing: the scenario and the runs named exist
    (anything else that does not fit the portfolio fails the job, with a problem)."""
    if isinstance(request, BridgeJobCreate):
        if (request.from_ is None) != (request.to is None):
            raise Invalid(
                "a bridge between runs needs both ends",
                problems=[Problem("from" if request.from_ is None else "to", "required")],
                location="body",
            )
        if request.from_ is not None and request.to is not None:
            runs.run_of_portfolio(
                session=session, portfolio=portfolio, run_id=request.from_, name="from"
            )
            runs.run_of_portfolio(
                session=session, portfolio=portfolio, run_id=request.to, name="to"
            )
        return
    if request.scenario is not None:
        found = session.exec(
            select(Scenario.pk).where(
                Scenario.portfolio_pk == portfolio.pk, Scenario.id == request.scenario
            )
        ).first()
        if found is None:
            raise Invalid(
                "the job names no scenario of the portfolio",
                problems=[Problem("scenario", f"unknown scenario '{request.scenario}'")],
                location="body",
            )


def create(*, session: Session, portfolio: Portfolio, request: JobRequest, caller: Caller) -> Job:
    """A queued job (flushed, not committed; enqueue it after the commit)."""
    assert portfolio.pk is not None
    job = Job(
        id=uuid.uuid4().hex,
        portfolio_pk=portfolio.pk,
        kind=request.kind,
        status="queued",
        progress=0.0,
        message="waiting for a worker",
        parameters=request.model_dump(mode="json", exclude_unset=True, by_alias=True)
        | {"kind": request.kind},
        requested_by={
            "key_pk": caller.key_pk,
            "name": caller.name,
            "role": caller.role.value,
            "owner": caller.owner,
        },
        created_by=caller.actor,
    )
    session.add(job)
    session.flush()
    crud.record(
        session=session,
        portfolio_id=portfolio.id,
        caller=caller,
        action="job",
        entity="job",
        entity_id=job.id,
        after={"job_id": job.id, "kind": job.kind, "parameters": job.parameters},
    )
    return job


def get_job(*, session: Session, job_id: str) -> tuple[Job, Portfolio]:
    row = session.exec(
        select(Job, Portfolio)
        .join(Portfolio, col(Portfolio.pk) == col(Job.portfolio_pk))
        .where(Job.id == job_id)
    ).first()
    if row is None:
        raise NotFound(f"no job '{job_id}'")
    return row[0], row[1]


def list_jobs(
    *,
    session: Session,
    portfolio: Portfolio,
    offset: int,
    limit: int,
    kind: str | None = None,
    status: str | None = None,
) -> tuple[list[Job], int]:
    where = [Job.portfolio_pk == portfolio.pk]
    if kind is not None:
        where.append(Job.kind == kind)
    if status is not None:
        where.append(Job.status == status)
    total = session.exec(select(func.count()).select_from(Job).where(*where)).one()
    rows = session.exec(
        select(Job).where(*where).order_by(col(Job.pk).desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), total


def cancel(*, session: Session, job: Job, portfolio: Portfolio, caller: Caller) -> bool:
    """Cancel the job: a queued one at once (True), a running one at its next progress
    point (False). Planners cancel any job; others only the jobs they started."""
    if RANK[caller.role] < RANK[Role.planner] and job.created_by != caller.actor:
        raise Forbidden(
            f"job {job.id} was started by {job.created_by}; only they or a planner cancel it"
        )
    if job.status in FINISHED:
        raise Conflict(f"job {job.id} is {job.status} already; there is nothing to cancel")
    now = utcnow()
    if job.status == "queued":
        job.status = "cancelled"
        job.message = f"cancelled by {caller.actor} before it started"
        job.finished_at = now
    else:
        job.cancel_requested = True
        job.message = f"cancelling (asked by {caller.actor}): stops at its next progress point"
    session.add(job)
    crud.record(
        session=session,
        portfolio_id=portfolio.id,
        caller=caller,
        action="cancel",
        entity="job",
        entity_id=job.id,
        before={"status": "queued" if job.status == "cancelled" else "running"},
        after={"status": job.status, "cancel_requested": job.cancel_requested},
    )
    return job.status == "cancelled"


# =========================================================================== reading


def links(job: Job, *, root: str = "") -> dict[str, str]:
    api = f"{root}/api/v1"
    out = {"self": f"{api}/jobs/{job.id}", "result": f"{api}/jobs/{job.id}/result"}
    if job.run_id:
        out["run"] = f"{api}/runs/{job.run_id}"
    return out


def summary(job: Job, portfolio: Portfolio, *, root: str = "") -> dict[str, Any]:
    return {
        "job_id": job.id,
        "portfolio_id": portfolio.id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "parameters": job.parameters or {},
        "attempts": job.attempts,
        "cancel_requested": job.cancel_requested,
        "created_at": as_utc(job.created_at),
        "created_by": job.created_by,
        "started_at": as_utc(job.started_at) if job.started_at else None,
        "finished_at": as_utc(job.finished_at) if job.finished_at else None,
        "portfolio_version": job.portfolio_version,
        "input_sha256": job.input_sha256,
        "result_sha256": job.result_sha256,
        "run_id": job.run_id,
        "links": links(job, root=root),
    }


def public(job: Job, portfolio: Portfolio, *, root: str = "") -> dict[str, Any]:
    return {
        **summary(job, portfolio, root=root),
        "result": json.loads(job.result_json) if job.result_json is not None else None,
        "error": job.error,
    }


# =========================================================================== the worker


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


def problem(
    status: int, detail: str, *, title: str | None = None, errors: Any = ()
) -> dict[str, Any]:
    """An RFC 9457 problem as stored with a failed job."""
    return {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "errors": list(errors),
    }


def problem_of(error: DomainError) -> dict[str, Any]:
    return problem(
        error.status,
        error.detail,
        title="Unprocessable Content" if error.status == 422 else None,
        errors=[
            {"location": error.location, "path": p.path, "message": p.message}
            for p in error.problems
        ],
    )


@dataclass
class Attempt:
    """One worker's go at one job: every write names it (`attempts` = number)."""

    engine: Engine
    job_id: str
    number: int

    def update(self, **values: Any) -> bool:
        """Write to the job while it is this attempt's and running; False when it is not."""
        with self.engine.begin() as connection:
            result = connection.execute(
                sa.update(JOB_TABLE)
                .where(
                    JOB_TABLE.c.id == self.job_id,
                    JOB_TABLE.c.attempts == self.number,
                    JOB_TABLE.c.status == "running",
                )
                .values(**values)
            )
            return bool(result.rowcount)

    def cancel_requested(self) -> bool:
        with self.engine.connect() as connection:
            value = connection.execute(
                sa.select(JOB_TABLE.c.cancel_requested).where(JOB_TABLE.c.id == self.job_id)
            ).scalar()
        return bool(value)


class Reporter:
    """The job's `Progress` (optimizer/progress.py): writes progress and heartbeat (at most
    every PROGRESS_INTERVAL seconds), and stops the job when it was cancelled or lost."""

    def __init__(self, attempt: Attempt) -> None:
        self.attempt = attempt
        self.last = 0.0

    def __call__(self, done: float, message: str) -> None:
        now = time.monotonic()
        if done < 1.0 and now - self.last < PROGRESS_INTERVAL:
            return
        self.last = now
        if not self.attempt.update(
            progress=min(max(done, 0.0), 1.0), message=message, heartbeat_at=utcnow()
        ):
            raise JobLost
        if self.attempt.cancel_requested():
            raise JobCancelled


@contextmanager
def heartbeat(attempt: Attempt, interval: float) -> Iterator[None]:
    """Beat the job's heartbeat from a thread of its own while the body runs."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval):
            try:
                attempt.update(heartbeat_at=utcnow())
            except Exception:  # a busy database: the next beat tries again
                log.warning("heartbeat of job %s failed", attempt.job_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"heartbeat-{attempt.job_id[:8]}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval + 5)


def claim(engine: Engine, job_id: str) -> Attempt | None:
    """Take a queued job (None when it is not queued any more: cancelled, or another
    message for it came first)."""
    now = utcnow()
    with engine.begin() as connection:
        row = connection.execute(
            sa.select(JOB_TABLE.c.attempts, JOB_TABLE.c.status).where(JOB_TABLE.c.id == job_id)
        ).first()
        if row is None or row.status != "queued":
            return None
        number = row.attempts + 1
        result = connection.execute(
            sa.update(JOB_TABLE)
            .where(
                JOB_TABLE.c.id == job_id,
                JOB_TABLE.c.status == "queued",
                JOB_TABLE.c.attempts == row.attempts,
            )
            .values(
                status="running",
                attempts=number,
                worker=worker_name(),
                started_at=now,
                heartbeat_at=now,
                progress=0.0,
                message="started",
            )
        )
        if not result.rowcount:
            return None
    return Attempt(engine, job_id, number)


def execute(job_id: str, *, queue: JobQueue) -> None:
    """Run one job to its end (the huey task). Never raises: the outcome is in the row."""
    engine, settings = queue.engine, queue.settings
    attempt = claim(engine, job_id)
    if attempt is None:
        log.info("job %s is not queued any more; message dropped", job_id)
        return
    report = Reporter(attempt)
    try:
        with heartbeat(attempt, settings.job_heartbeat_seconds):
            outcome = compute(attempt, report, settings)
    except JobCancelled:
        attempt.update(
            status="cancelled",
            message="cancelled while running",
            finished_at=utcnow(),
            heartbeat_at=utcnow(),
        )
        return
    except JobLost:
        log.warning("job %s was given to another worker; this attempt stops", job_id)
        return
    except DomainError as error:
        attempt.update(
            status="failed",
            message=error.detail,
            error=problem_of(error),
            finished_at=utcnow(),
        )
        return
    except ValueError as error:
        # the optimizer's refusals (a frontier in a mode without a budget...)
        failure = problem(422, str(error), title="Unprocessable Content")
        attempt.update(status="failed", message=str(error), error=failure, finished_at=utcnow())
        return
    except Exception as error:
        log.exception("job %s failed unexpectedly", job_id)
        detail = f"the job failed unexpectedly ({type(error).__name__}); it has been logged"
        attempt.update(
            status="failed", message=detail, error=problem(500, detail), finished_at=utcnow()
        )
        return
    result_json, run_id = outcome
    attempt.update(
        status="done",
        progress=1.0,
        message="done",
        result_json=result_json,
        result_sha256=runs.sha256(result_json),
        run_id=run_id,
        finished_at=utcnow(),
        heartbeat_at=utcnow(),
    )


def _caller_of(job: Job) -> Caller:
    who = job.requested_by or {}
    return Caller(
        key_pk=int(who.get("key_pk", 0)),
        name=str(who.get("name", job.created_by)),
        role=Role(who.get("role", "viewer")),
        owner=who.get("owner"),
    )


def _store_input(attempt: Attempt, input_json: str, version: int | None) -> None:
    if not attempt.update(
        input_json=input_json,
        input_sha256=runs.sha256(input_json),
        portfolio_version=version,
    ):
        raise JobLost


def compute(attempt: Attempt, report: Progress, settings: Settings) -> tuple[str, str | None]:
    """The job's work: (result JSON, the run id of a run job)."""
    with Session(attempt.engine, expire_on_commit=False) as session:
        job = session.exec(select(Job).where(Job.id == attempt.job_id)).one()
        portfolio = session.exec(select(Portfolio).where(Portfolio.pk == job.portfolio_pk)).one()
        parameters = dict(job.parameters or {})
        kind = parameters.pop("kind", job.kind)
        caller = _caller_of(job)
        # No transaction stays open across a progress report (its own write: on SQLite
        # writers take turns) or a solve.
        session.commit()
        report(0.0, "reading the portfolio")
        if kind == "bridge":
            return _bridge(session, attempt, report, settings, portfolio, parameters)
        extra = {
            key: parameters.pop(key)
            for key in ("points", "low", "high", "samples", "spread", "seed")
            if key in parameters
        }
        request = RunCreate.model_validate(parameters, strict=False)
        portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio.id, consistent=True)
        prepared = runs.prepare(session=session, portfolio=portfolio, request=request)
        session.commit()
        if kind == "run":
            _store_input(attempt, prepared.input_json, prepared.portfolio_version)
            return _run(session, attempt, report, settings, portfolio, prepared, caller)
        stored = json.loads(prepared.input_json)
        input_json = runs.canonical_json({**stored, "kind": kind, "parameters": extra})
        _store_input(attempt, input_json, prepared.portfolio_version)
        if kind == "frontier":
            from optimizer.frontier import frontier

            report(0.02, "building the model")
            result = frontier(
                prepared.problem,
                points=int(extra.get("points", 25)),
                low=extra.get("low"),
                high=extra.get("high"),
                progress=scaled(report, 0.02, 1.0),
            )
            return result.model_dump_json(by_alias=True), None
        if kind == "robustness":
            return _robustness(report, settings, prepared, extra), None
    raise ValueError(f"unknown job kind '{kind}'")


def _run(
    session: Session,
    attempt: Attempt,
    report: Progress,
    settings: Settings,
    portfolio: Portfolio,
    prepared: runs.PreparedRun,
    caller: Caller,
) -> tuple[str, str | None]:
    twin = runs.stored_twin(session=session, prepared=prepared)
    session.commit()
    if twin is None:
        report(0.05, "solving")
        result = runs.solve(prepared.problem, time_limit=settings.solver_time_limit)
        report(0.95, "storing the run")
        portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio.id, lock=True)
        twin = runs.stored_twin(session=session, prepared=prepared)
        if twin is None:
            twin = runs.store(
                session=session,
                portfolio=portfolio,
                prepared=prepared,
                result=result,
                caller=caller,
            )
        session.commit()
    approved = runs.approved_run_pk(session=session, portfolio=portfolio) == twin.pk
    session.commit()
    summary = RunSummary.model_validate(runs.run_summary(twin, portfolio, approved=approved))
    return runs.canonical_json(summary.model_dump(mode="json")), twin.id


def _robustness(
    report: Progress, settings: Settings, prepared: runs.PreparedRun, extra: dict[str, Any]
) -> str:
    from optimizer.robustness import robustness

    samples = int(extra.get("samples", 1000))
    report(0.02, "solving the optimum")
    run = runs.solve(prepared.problem, time_limit=settings.solver_time_limit)
    if run.status != "optimal":
        raise Invalid(
            "robustness needs an optimal run; this scenario is infeasible: "
            + "; ".join(c.message for c in run.conflicts)
        )
    sampling = scaled(report, 0.3, 1.0)
    done = 0

    def blocks(block: int) -> None:
        nonlocal done
        done += block
        sampling(done / samples, f"{done:,} of {samples:,} samples")

    sampling(0.0, f"0 of {samples:,} samples")
    result = robustness(
        prepared.problem,
        run,
        samples=samples,
        spread=float(extra.get("spread", 0.2)),
        seed=int(extra.get("seed", 0)),
        progress=blocks,
    )
    return result.model_dump_json(by_alias=True)


def _bridge(
    session: Session,
    attempt: Attempt,
    report: Progress,
    settings: Settings,
    portfolio: Portfolio,
    parameters: dict[str, Any],
) -> tuple[str, str | None]:
    from optimizer.bridge import bridge, pooled_bridge

    steps = 0

    def solve(problem: Any) -> Any:
        nonlocal steps
        # a bridge solves both ends and at most one step per group of settings (7)
        report(min(steps / 9, 0.95), f"solve {steps + 1}")
        steps += 1
        return runs.solve(problem, time_limit=settings.solver_time_limit)

    start, finish = parameters.get("from"), parameters.get("to")
    if start is not None and finish is not None:
        a = runs.run_of_portfolio(session=session, portfolio=portfolio, run_id=start, name="from")
        b = runs.run_of_portfolio(session=session, portfolio=portfolio, run_id=finish, name="to")
        input_json = runs.canonical_json(
            {
                "kind": "bridge",
                "from": {"run_id": a.id, "input_sha256": a.input_sha256},
                "to": {"run_id": b.id, "input_sha256": b.input_sha256},
            }
        )
        session.commit()
        _store_input(attempt, input_json, portfolio.version)
        return bridge(runs.bridge_end(a), runs.bridge_end(b), solve=solve).model_dump_json(
            by_alias=True
        ), None
    from optimizer.document import document_to_data

    percent = float(parameters.get("percent", 10.0))
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio.id, consistent=True)
    document = crud.export_document(session=session, portfolio=portfolio)
    version = portfolio.version
    session.commit()
    input_json = runs.canonical_json(
        {"kind": "bridge", "document": document_to_data(document), "percent": percent}
    )
    _store_input(attempt, input_json, version)
    return pooled_bridge(document, percent=percent, solve=solve).model_dump_json(
        by_alias=True
    ), None


# =========================================================================== lost workers


def reap(queue: JobQueue) -> list[str]:
    """Give up the running jobs whose worker stopped beating (queued again, or failed after
    `job_max_attempts` starts), and queue again the queued jobs whose message is gone.
    Ids of the jobs touched."""
    settings, engine = queue.settings, queue.engine
    cutoff = utcnow() - timedelta(seconds=settings.job_stale_seconds)
    touched: list[str] = []
    with engine.connect() as connection:
        stale = connection.execute(
            sa.select(
                JOB_TABLE.c.id,
                JOB_TABLE.c.attempts,
                JOB_TABLE.c.worker,
                JOB_TABLE.c.heartbeat_at,
                JOB_TABLE.c.cancel_requested,
            ).where(JOB_TABLE.c.status == "running", JOB_TABLE.c.heartbeat_at < cutoff)
        ).all()
        waiting = connection.execute(
            sa.select(JOB_TABLE.c.id).where(
                JOB_TABLE.c.status == "queued", JOB_TABLE.c.created_at < cutoff
            )
        ).all()
    for row in stale:
        last = as_utc(row.heartbeat_at).strftime("%Y-%m-%d %H:%M:%S UTC")
        lost = f"its worker {row.worker} stopped answering (last heartbeat {last})"
        attempt = Attempt(engine, row.id, row.attempts)
        if row.cancel_requested:
            changed = attempt.update(
                status="cancelled", message=f"cancelled; {lost}", finished_at=utcnow()
            )
        elif row.attempts < settings.job_max_attempts:
            changed = attempt.update(
                status="queued",
                message=f"{lost}; queued again (start {row.attempts + 1} of "
                f"{settings.job_max_attempts})",
            )
            if changed:
                queue.enqueue(row.id)
        else:
            detail = f"{lost}; given up after {row.attempts} start(s)"
            changed = attempt.update(
                status="failed",
                message=detail,
                error=problem(500, detail, title="Worker lost"),
                finished_at=utcnow(),
            )
        if changed:
            log.warning("job %s: %s", row.id, lost)
            touched.append(row.id)
    if waiting:
        pending = queue.pending_ids()
        for (job_id,) in waiting:
            if job_id not in pending:
                log.warning("job %s was queued but its message is gone; queued again", job_id)
                queue.enqueue(job_id)
                touched.append(job_id)
    return touched


class Reaper:
    """Calls `reap` now and then every `job_heartbeat_seconds`, in a thread of its own."""

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-reaper", daemon=True)

    def _loop(self) -> None:
        while True:
            try:
                reap(self.queue)
            except Exception:
                log.warning("looking for lost jobs failed; trying again", exc_info=True)
            if self._stop.wait(self.queue.settings.job_heartbeat_seconds):
                return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
