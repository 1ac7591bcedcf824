"""The route class of every API route: JSON bodies are read with integral numbers as
integers.

JSON has one number type: `8000.0` and `8000` are the same number, and JSON Schema calls both
integers. Many clients (JavaScript, pandas) write `8000.0`, which strict validation of an
integer field (a persona's `customers`) would refuse. Reading integral numbers as Python ints
fixes that without loosening anything else: a float field accepts an int, a fraction stays a
float (and is refused where an integer is needed), and a string is never a number.
"""

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

_EXACT = 2**53
"""Beyond this a float no longer holds every integer exactly."""


def number(text: str) -> int | float:
    value = float(text)
    if value.is_integer() and abs(value) < _EXACT:
        return int(value)
    return value


class JsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), parse_float=number)
        return self._json


class JsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            return await handler(JsonRequest(request.scope, request.receive))

        return route_handler
