"""Request limits: a body above `max_request_bytes` gets 413 before any work is done
(`BodyLimit`); no more requests at work than database connections (`Admission`)."""

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.errors import problem_response


class BodyLimit:
    """Pure ASGI middleware: reads the body up to the limit, then hands it to the app."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await problem_response(None, 400, "the Content-Length header is not a number")(
                    scope, receive, send
                )
                return
            if int(declared) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return

        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away before sending the whole body: nothing to answer.
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            None,
            413,
            f"the request body is larger than the limit of {self.max_bytes} bytes",
        )
        await response(scope, receive, send)


class Admission:
    """Pure ASGI middleware: at most `slots` requests work at once, as many as the database
    has connections (and the server worker threads); the others wait their turn, without a
    thread, at most `wait` seconds, then get 503 with Retry-After.

    A request holds at most one connection at a time, so an admitted request never waits for
    one: a burst queues here, in order, instead of piling up on the pool. `exempt` paths
    (`/health`) touch no database and skip the queue."""

    def __init__(
        self, app: ASGIApp, *, slots: int, wait: float, exempt: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.slots = slots
        self.wait = wait
        self.exempt = exempt
        self._semaphore: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def _current(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._semaphore[0] is not loop:
            self._semaphore = (loop, asyncio.Semaphore(self.slots))
        return self._semaphore[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").endswith(self.exempt):
            await self.app(scope, receive, send)
            return
        semaphore = self._current()
        try:
            await asyncio.wait_for(semaphore.acquire(), timeout=self.wait)
        except TimeoutError:
            response = problem_response(
                None,
                503,
                f"the server is busy ({self.slots} requests at work, this one waited "
                f"{self.wait:g} s); retry in a moment",
                headers={"Retry-After": "2"},
                instance=scope.get("path"),
            )
            await response(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            semaphore.release()
