"""Workers: the processes (or threads) that take jobs off the queue and do them.

`journeyfolio worker` runs `run_worker`: huey's consumer (its threads take jobs, its signal
handling stops it: SIGINT waits for the running jobs, SIGTERM queues them again), plus the
reaper thread that finds jobs whose worker died (backend/jobs.py). Start as many as you like,
on any machine that reaches the database and the queue.

`embedded_worker` runs the same consumer inside a process that has its own use for signals
(a test run): huey's consumer sets handlers for SIGINT, SIGTERM and SIGHUP when it starts, so
they are put back as they were right after.
"""

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from backend.config import Settings
from backend.db import make_engine
from backend.jobs import JobQueue, Reaper
from backend.migrate import upgrade


def run_worker(settings: Settings, *, echo: Callable[[str], None] | None = None) -> None:
    """Consume the queue until SIGINT or SIGTERM (the database is migrated first)."""
    engine = make_engine(
        settings.database_url,
        busy_timeout=settings.sqlite_busy_timeout,
        pool_size=max(4, 2 * settings.worker_threads + 2),
        pool_timeout=settings.db_pool_timeout,
    )
    try:
        upgrade(engine)
        queue = JobQueue(settings, engine)
        consumer = queue.consumer()
        reaper = Reaper(queue)
        reaper.start()
        if echo is not None:
            echo(
                f"journeyfolio worker: {settings.worker_threads} thread(s) on "
                f"{shown(settings.queue_location())} (queue '{settings.queue_name}')"
            )
        try:
            consumer.run()
        finally:
            reaper.stop()
    finally:
        engine.dispose()


def shown(url: str) -> str:
    """A queue URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}" if ":" in credentials else url
    return url


@contextmanager
def embedded_worker(queue: JobQueue) -> Iterator[JobQueue]:
    """huey's consumer (threads) in this process while the block runs; call from the main
    thread. At the end it waits for the running jobs to finish."""
    handlers = {
        signum: signal.getsignal(signum)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    consumer = queue.consumer()
    try:
        consumer.start()
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    reaper = Reaper(queue)
    reaper.start()
    try:
        yield queue
    finally:
        reaper.stop()
        consumer.stop(graceful=True)
