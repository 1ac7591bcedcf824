"""API keys and roles: who may touch what.

A key is `jf_` + 43 random URL-safe characters, shown once; the database keeps its SHA-256
(a fast hash is enough for a random 256-bit secret: there is nothing to brute-force).

Roles, from most to least:
- `admin`: everything;
- `planner` (leadership): portfolios, departments, personas, touchpoints, dependencies,
  scenarios, runs and plan approval, all journeys;
- `owner` (journey owner): reads everything, changes only the journeys whose `owner` is the
  key's e-mail (and their links), never a journey's leadership fields (owner, priority,
  floor), and runs scenarios;
- `viewer` (finance tools): reads everything, changes nothing.
"""

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, select

from backend.errors import Forbidden, Unauthorized
from backend.models import ApiKey

KEY_PREFIX = "jf_"


class Role(StrEnum):
    admin = "admin"
    planner = "planner"
    owner = "owner"
    viewer = "viewer"


RANK = {Role.viewer: 0, Role.owner: 1, Role.planner: 2, Role.admin: 3}

LEADERSHIP_FIELDS = frozenset({"owner", "priority", "floor"})
"""Journey fields only planners change: who owns it and how much leadership weighs it."""


@dataclass(frozen=True)
class Caller:
    """Who sends the request: the key's name, role and (for owners) e-mail."""

    key_pk: int
    name: str
    role: Role
    owner: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.name} <{self.owner}>" if self.owner else self.name

    def require(self, role: Role) -> None:
        if RANK[self.role] < RANK[role]:
            raise Forbidden(f"this needs the role '{role}' or higher; the key has '{self.role}'")

    def owns(self, journey_owner: str | None) -> bool:
        return (
            self.owner is not None
            and journey_owner is not None
            and journey_owner.strip().casefold() == self.owner.strip().casefold()
        )

    def require_journey(self, journey_id: str, journey_owner: str | None) -> None:
        """Planners change every journey; an owner only their own."""
        if RANK[self.role] >= RANK[Role.planner]:
            return
        if self.role == Role.owner and self.owns(journey_owner):
            return
        if self.role == Role.owner:
            raise Forbidden(
                f"journey '{journey_id}' belongs to {journey_owner or 'nobody'}; "
                f"a journey owner changes only their own journeys"
            )
        raise Forbidden(f"the role '{self.role}' is read-only")

    def require_fields(self, fields: set[str]) -> None:
        """Owners keep their journey up to date but do not reassign or reweigh it."""
        if RANK[self.role] >= RANK[Role.planner]:
            return
        blocked = sorted(fields & LEADERSHIP_FIELDS)
        if blocked:
            raise Forbidden(
                f"only a planner changes a journey's {', '.join(blocked)}; "
                f"the key has the role '{self.role}'"
            )


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_key(
    *, session: Session, role: Role, name: str, owner: str | None = None
) -> tuple[ApiKey, str]:
    """Store a new key; returns the row and the key itself (the only time it is known)."""
    if role == Role.owner and not owner:
        raise ValueError("a key with the role 'owner' needs --owner EMAIL")
    key = new_key()
    row = ApiKey(
        name=name,
        role=role.value,
        owner=owner,
        key_hash=hash_key(key),
        prefix=key[: len(KEY_PREFIX) + 6],
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row, key


def authenticate(*, session: Session, authorization: str | None) -> Caller:
    """The caller of an `Authorization: Bearer KEY` header, or 401."""
    if not authorization:
        raise Unauthorized("an API key is needed: send 'Authorization: Bearer KEY'")
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise Unauthorized("the Authorization header must be 'Bearer KEY'")
    row = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("unknown or revoked API key")
    assert row.pk is not None
    return Caller(key_pk=row.pk, name=row.name, role=Role(row.role), owner=row.owner)
