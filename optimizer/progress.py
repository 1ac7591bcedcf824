"""Progress of long computations: a callback the optimizer's long loops call.

A caller that wants to know how far a computation is (a job's progress bar) or to stop it
(a cancelled job) passes a `Progress`. The loop calls it at each natural step (a frontier's
budget level, a block of robustness samples) with the share done so far, in [0, 1], and
words for what it is doing. To stop the computation, the callback raises: the exception
leaves the loop at that step and reaches the caller unchanged (nothing half-done is
returned).
"""

from typing import Protocol


class Progress(Protocol):
    def __call__(self, done: float, message: str) -> None:
        """`done` in [0, 1]: the share of the work finished; `message` says what is going on."""


def no_progress(done: float, message: str) -> None:
    """A `Progress` that does nothing (the default)."""


def scaled(progress: Progress, start: float, end: float) -> Progress:
    """`progress` for one part of a larger computation that covers [start, end] of it."""

    def report(done: float, message: str) -> None:
        progress(start + (end - start) * min(max(done, 0.0), 1.0), message)

    return report
