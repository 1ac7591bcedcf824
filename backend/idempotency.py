"""`Idempotency-Key` for the POSTs that create (portfolios, runs): a retry never creates twice.

The first request with a key stores its answer (status, body, headers) in the same
transaction as what it created; a retry with the same key and the same request gets that
answer back (with `Idempotent-Replayed: true`), a retry with another request a 422. Keys are
per API key and remembered for `idempotency_ttl_hours`. Two copies of one request racing each
other: the unique (api key, key) constraint lets one commit; the other rolls back and replays.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from backend.errors import Conflict, Invalid
from backend.models import IdempotencyRecord, as_utc, utcnow
from backend.security import Caller


@dataclass
class Created:
    """What a create returns: the body and the headers of its 201 (200 when it found what
    the request would have created stored already)."""

    body: BaseModel
    headers: dict[str, str] = field(default_factory=dict)
    status_code: int = 201


def fingerprint(request: Request, payload: Any) -> str:
    text = json.dumps(
        {"method": request.method, "path": request.url.path, "payload": payload},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _replay(
    *, session: Session, caller: Caller, key: str, print_: str, ttl_hours: float
) -> Response | None:
    record = session.exec(
        select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_pk == caller.key_pk, IdempotencyRecord.key == key
        )
    ).first()
    if record is None:
        return None
    if as_utc(record.created_at) < utcnow() - timedelta(hours=ttl_hours):
        session.delete(record)
        session.flush()
        return None
    if record.fingerprint != print_:
        raise Invalid(
            f"the Idempotency-Key '{key}' was used for another request (another method, path "
            f"or body); use a new key for a new request"
        )
    return Response(
        content=record.body,
        status_code=record.status_code,
        media_type="application/json",
        headers={**record.headers, "Idempotent-Replayed": "true"},
    )


def create_once(
    *,
    session: Session,
    caller: Caller,
    key: str | None,
    request: Request,
    payload: Any,
    response: Response,
    ttl_hours: float,
    create: Callable[[], Created],
) -> Any:
    """Run `create` and commit, unless `key` was seen with this request: then replay."""
    print_ = fingerprint(request, payload)
    if key is not None:
        replay = _replay(
            session=session, caller=caller, key=key, print_=print_, ttl_hours=ttl_hours
        )
        if replay is not None:
            return replay
    try:
        created = create()
        if key is not None:
            _forget_expired(session=session, caller=caller, ttl_hours=ttl_hours)
            session.add(
                IdempotencyRecord(
                    api_key_pk=caller.key_pk,
                    key=key,
                    method=request.method,
                    path=request.url.path,
                    fingerprint=print_,
                    status_code=created.status_code,
                    body=created.body.model_dump_json(),
                    headers=created.headers,
                )
            )
        session.commit()
    except IntegrityError:
        session.rollback()
        if key is not None:
            replay = _replay(
                session=session, caller=caller, key=key, print_=print_, ttl_hours=ttl_hours
            )
            if replay is not None:
                return replay
        raise Conflict(
            "a concurrent request created the same thing first; read it, or retry"
        ) from None
    response.status_code = created.status_code
    for name, value in created.headers.items():
        response.headers[name] = value
    return created.body


def _forget_expired(*, session: Session, caller: Caller, ttl_hours: float) -> None:
    cutoff = utcnow() - timedelta(hours=ttl_hours)
    statement = delete(IdempotencyRecord).where(
        col(IdempotencyRecord.api_key_pk) == caller.key_pk,
        col(IdempotencyRecord.created_at) < cutoff,
    )
    session.exec(statement)


def purge(*, session: Session, ttl_hours: float) -> int:
    """Forget keys older than the TTL; returns how many."""
    cutoff = utcnow() - timedelta(hours=ttl_hours)
    result = session.exec(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < cutoff)
    )
    session.commit()
    return int(result.rowcount or 0)
