"""The jobs' task queue: huey, on SQLite for one machine or on Redis for many.

The same code runs both ways; only `JOURNEYFOLIO_QUEUE_URL` differs (config.Settings):

- embedded (the default, what `make run` starts): a SQLite file next to the database
  (SqliteHuey); `journeyfolio up` starts one worker process beside the API;
- scaled: `redis://host:6379/0` (RedisHuey); `journeyfolio worker` processes on any machine
  that reaches the same Redis and the same database consume it.

A message on the queue carries only a job's id: everything else (parameters, progress,
result, who asked) is in the database's job table (backend/jobs.py), which is what the API
reads. huey's own result store is off. Messages are pickled (huey's serializer), so the
Redis of a scaled setup must be reachable only by Journeyfolio's own processes.
"""

from pathlib import Path
from typing import Any

from huey import MemoryHuey, RedisHuey, SqliteHuey

from backend.config import Settings

TASK_NAME = "journeyfolio.job"
"""The one task: run the job with this id. Producers and workers find it by this name."""


class QueueConfigError(ValueError):
    """`JOURNEYFOLIO_QUEUE_URL` names no queue huey can use; the message says why."""


def make_huey(settings: Settings) -> Any:
    """The huey instance of the configured queue (its SQLite file is made if missing)."""
    location = settings.queue_location()
    scheme, _, rest = location.partition("://")
    name = settings.queue_name
    if scheme in ("redis", "rediss", "unix"):
        # blocking: workers wait on the list (BRPOP) instead of polling
        return RedisHuey(name, url=location, results=False, blocking=True, read_timeout=1)
    if scheme == "sqlite":
        path = Path(rest.removeprefix("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), results=False, timeout=30)
    if scheme == "memory":
        return MemoryHuey(name, results=False)
    raise QueueConfigError(
        f"JOURNEYFOLIO_QUEUE_URL '{location}' is not a queue: use redis://host:6379/0 "
        f"(workers on several machines) or sqlite:///path/queue.db (one machine)"
    )
