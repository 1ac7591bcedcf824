"""The route class of every API route: how request text and numbers are read.

- JSON has one number type: `8000.0` and `8000` are the same number, and JSON Schema calls
  both integers. Many clients (JavaScript, pandas) write `8000.0`, which strict validation of
  an integer field (a persona's `customers`) would refuse. Integral numbers are read as
  Python ints: a float field accepts an int, a fraction stays a float (and is refused where
  an integer is needed), and a string is never a number.
- Text with a NUL character cannot be stored by PostgreSQL (and is never meant), and a lone
  surrogate (`"\\ud800"`) cannot be encoded at all: both are refused with 422 naming where
  they are, in the body, the query or the path, before any work. (The field rules of text,
  lengths and control characters, are in optimizer.document: `Text`, `Description`...)
- A body that is not JSON gets 400 saying why: not UTF-8 (with the byte), a syntax error
  (with the character), nested deeper than `MAX_DEPTH`, a number out of range, a key twice
  in one object (with the key; JSON parsers disagree on which one wins, so none does).
- A YAML body (`application/yaml`, also `application/x-yaml`, `text/yaml`) is read with a
  safe loader (no Python objects), its aliases and nesting counted before anything is built
  (an alias bomb gets 413 saying so, `optimizer.document.parse_text`), and then handled
  exactly like the same data sent as JSON.
"""

import json
import math
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from backend.errors import BadRequest, Invalid, PayloadTooLarge
from optimizer.document import DocumentError, Problem, YamlTooLarge, format_path, parse_text

_EXACT = 2**53
"""Beyond this a float no longer holds every integer exactly."""
NUL = "\x00"
MAX_DEPTH = 64
"""Arrays and objects inside each other, at most (a portfolio document needs 6)."""
MAX_DIGITS = 308
"""Digits of an integer, at most: beyond that it is no double (1e308) either."""


YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})


class BadJson(ValueError):
    """The body is JSON text, but not one this API reads; says why."""


def number(text: str) -> int | float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson(f"the number {_short(text)} is out of range (at most about 1e308)")
    if value.is_integer() and abs(value) < _EXACT:
        return int(value)
    return value


def integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise BadJson(
            f"the number {_short(text)} ({len(text.lstrip('-'))} digits) is out of range "
            f"(at most {MAX_DIGITS} digits)"
        )
    return int(text)


def constant(text: str) -> Any:
    raise BadJson(f"{text} is not a JSON number")


def _short(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}..."


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            shown = json.dumps(key[:100], ensure_ascii=True)
            raise BadJson(f"the key {shown} appears twice in one object")
        out[key] = value
    return out


def parse_json(body: bytes) -> Any:
    """The body as JSON, or BadRequest saying what is wrong with it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(
            f"the request body is not valid UTF-8: byte 0x{body[error.start]:02x} at "
            f"byte {error.start}"
        ) from None
    try:
        value = json.loads(
            text,
            parse_float=number,
            parse_int=integer,
            parse_constant=constant,
            object_pairs_hook=unique_keys,
        )
    except json.JSONDecodeError as error:
        raise BadRequest(
            f"the request body is not valid JSON: {error.msg} (at character {error.pos})"
        ) from None
    except BadJson as error:
        raise BadRequest(f"the request body is not accepted: {error}") from None
    except RecursionError:
        raise BadRequest(
            f"the request body is nested too deeply (at most {MAX_DEPTH} levels of arrays "
            "and objects)"
        ) from None
    return value


def _unicode_problem(text: str) -> str | None:
    if NUL in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        code = ord(text[error.start])
        return f"is not valid Unicode: a lone surrogate (U+{code:04X}) at character {error.start}"
    return None


def _key(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8").replace(NUL, "\\u0000")


def text_problems(value: Any) -> Iterator[Problem]:
    """Texts (and keys) of parsed JSON that no database can store: NUL, lone surrogates.
    Nesting deeper than MAX_DEPTH raises BadRequest."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if len(path) > MAX_DEPTH:
            raise BadRequest(
                f"the request body is nested too deeply (at most {MAX_DEPTH} levels of arrays "
                f"and objects; {format_path(path[:3])}... goes deeper)"
            )
        if isinstance(item, str):
            message = _unicode_problem(item)
            if message:
                yield Problem(format_path(path), message)
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                message = _unicode_problem(key)
                if message:
                    yield Problem(format_path((*path, _key(key))), f"the key {message}")
                stack.append((child, (*path, _key(key))))
        elif isinstance(item, list):
            stack.extend((child, (*path, i)) for i, child in reversed(list(enumerate(item))))


def parse_yaml(body: bytes) -> Any:
    """The body as YAML, or BadRequest (PayloadTooLarge for an alias bomb) saying why."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(
            f"the request body is not valid UTF-8: byte 0x{body[error.start]:02x} at "
            f"byte {error.start}"
        ) from None
    try:
        return parse_text(text, name="the request body")
    except YamlTooLarge as error:
        raise PayloadTooLarge(str(error)) from None
    except DocumentError as error:
        raise BadRequest(str(error)) from None


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


class JsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json

    def _is_json(self) -> bool:
        kind = _content_type(self)
        return kind == "application/json" or kind.endswith("+json")

    async def read_yaml(self) -> None:
        """A YAML body becomes the JSON body FastAPI reads (parsed here, once)."""
        self._json = parse_yaml(await self.body())
        headers = [(k, v) for k, v in self.scope["headers"] if k != b"content-type"]
        self.scope["headers"] = [*headers, (b"content-type", b"application/json")]
        if hasattr(self, "_headers"):
            del self._headers

    async def refuse_bad_text(self) -> None:
        """NUL characters and lone surrogates, in the path, the query or the body: 422.
        A body that is not JSON: 400 saying why."""
        found = [
            Problem(self.url.path, message)
            for message in [_unicode_problem(self.scope.get("path", ""))]
            if message
        ]
        location = "path"
        if not found:
            location = "query"
            found = [
                Problem(_key(key), message)
                for key, value in self.query_params.multi_items()
                for message in [_unicode_problem(key) or _unicode_problem(value)]
                if message
            ]
        if not found and self._is_json() and await self.body():
            location = "body"
            found = list(text_problems(await self.json()))
        if found:
            what = (
                "text must not contain NUL characters (\\u0000)"
                if all("NUL" in p.message for p in found)
                else "text must be valid Unicode without NUL characters"
            )
            raise Invalid(what, problems=found, location=location)


class JsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            wrapped = JsonRequest(request.scope, request.receive)
            if _content_type(wrapped) in YAML_TYPES and await wrapped.body():
                await wrapped.read_yaml()
            await wrapped.refuse_bad_text()
            return await handler(wrapped)

        return route_handler
