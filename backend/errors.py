"""Domain errors: what went wrong, in the words of the API. `api/errors.py` maps each one,
once, to an RFC 9457 problem+json response."""

from collections.abc import Iterable

from optimizer.document import Problem


class DomainError(Exception):
    status = 400
    title = "Bad Request"

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
    status, title = 400, "Bad Request"


class Unauthorized(DomainError):
    status, title = 401, "Unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="journeyfolio"'})


class Forbidden(DomainError):
    status, title = 403, "Forbidden"


class NotFound(DomainError):
    status, title = 404, "Not Found"


class Conflict(DomainError):
    status, title = 409, "Conflict"


class PreconditionFailed(DomainError):
    status, title = 412, "Precondition Failed"


class PayloadTooLarge(DomainError):
    status, title = 413, "Content Too Large"


class Invalid(DomainError):
    """The request is well-formed but breaks a rule (of the document, or of the API)."""

    status, title = 422, "Unprocessable Content"


class PreconditionRequired(DomainError):
    status, title = 428, "Precondition Required"
