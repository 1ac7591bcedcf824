"""Domain errors: what went wrong, in the words of the API. `api/errors.py` maps each one,
once, to an RFC 9457 problem+json response."""

from collections.abc import Iterable

from optimizer.document import Problem


class DomainError(Exception):
    status = 400

    def __init__(
        self,
        detail: str,
        *,
        problems: Iterable[Problem] = (),
        location: str = "document",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = list(problems)
        self.location = location
        """Where the problems' paths point: `document` (the portfolio document, as GET
        .../document shows it), `body`, `query`."""
        self.headers = headers or {}


class BadRequest(DomainError):
    status = 400


class Unauthorized(DomainError):
    status = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="journeyfolio"'})


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class PreconditionFailed(DomainError):
    status = 412


class PayloadTooLarge(DomainError):
    status = 413


class UnsupportedMediaType(DomainError):
    status = 415


class Invalid(DomainError):
    """The request is well-formed but breaks a rule (of the document, or of the API)."""

    status = 422


class RunFailed(DomainError):
    """The solver stopped without a result (its time limit): the scenario is too big for it."""

    status = 422


class PreconditionRequired(DomainError):
    status = 428


class QueueUnavailable(DomainError):
    """The task queue does not take jobs (Redis down, a full disk): retry later."""

    status = 503
