"""The route class of every API route: how request text and numbers are read.

- JSON has one number type: `8000.0` and `8000` are the same number, and JSON Schema calls
  both integers. Many clients (JavaScript, pandas) write `8000.0`, which strict validation of
  an integer field (a persona's `customers`) would refuse. Integral numbers are read as
  Python ints: a float field accepts an int, a fraction stays a float (and is refused where
  an integer is needed), and a string is never a number.
- Text with a NUL character cannot be stored by PostgreSQL (and is never meant): it is
  refused with 422 naming where it is, in the body, the query or the path, before any work.
"""

import json
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from backend.errors import Invalid
from optimizer.document import Problem, format_path

_EXACT = 2**53
"""Beyond this a float no longer holds every integer exactly."""
NUL = "\x00"


def number(text: str) -> int | float:
    value = float(text)
    if value.is_integer() and abs(value) < _EXACT:
        return int(value)
    return value


def nul_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[str]:
    """Where in parsed JSON a text (or a key) holds a NUL character."""
    if isinstance(value, str):
        if NUL in value:
            yield format_path(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                yield format_path((*path, key.replace(NUL, "\\u0000")))
            yield from nul_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from nul_paths(item, (*path, i))


class JsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), parse_float=number)
        return self._json

    def _is_json(self) -> bool:
        kind = self.headers.get("content-type", "").split(";")[0].strip().lower()
        return kind == "application/json" or kind.endswith("+json")

    async def refuse_nul(self) -> None:
        found = [("path", self.url.path)] if NUL in self.scope.get("path", "") else []
        found += [
            ("query", key)
            for key, value in self.query_params.multi_items()
            if NUL in key or NUL in value
        ]
        if not found and self._is_json() and await self.body():
            try:
                found = [("body", path) for path in nul_paths(await self.json())]
            except (ValueError, RecursionError):
                return  # not JSON: the route's own parsing answers that
        if found:
            raise Invalid(
                "text must not contain NUL characters (\\u0000)",
                problems=[Problem(path, "contains a NUL character") for _, path in found],
                location=found[0][0],
            )


class JsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            wrapped = JsonRequest(request.scope, request.receive)
            await wrapped.refuse_nul()
            return await handler(wrapped)

        return route_handler
