"""Bounds on a streamed chat answer from an OpenAI-compatible server, kept in the HTTP layer.

A read timeout alone does not bound a stream: a server that answers HTTP 200 and then sends an
SSE keep-alive comment (``: ping``) every few seconds, never a token, resets it forever. So the
chat client's transport wraps every response body and counts only SSE ``data:`` lines as
progress: no data line within ``first_data_s`` of the request, a gap of more than ``gap_s``
between two, or more than ``total_s`` for the whole answer ends the stream with
``StreamStalled`` (an ``httpx2.ReadTimeout``). A server that sends nothing at all is bounded by
the read timeout, which the client sets to ``first_data_s`` too. The checks run whenever bytes
arrive, so a keep-alive every 3 s is caught within 3 s of the bound.

The types are httpx2's, the HTTP library the openai client is built on: it accepts only its own
client, transport and timeout objects (httpx2 2.17 refuses the older httpx ones), and maps only
its own ``ReadTimeout`` to ``openai.APITimeoutError``.
"""

from __future__ import annotations

import time

import httpx2


class StreamStalled(httpx2.ReadTimeout):
    """The server kept the connection open but sent no answer within a bound."""

    def __init__(self, reason: str, request: httpx2.Request):
        super().__init__(reason, request=request)
        self.reason = reason


class BoundedStreamTransport(httpx2.BaseTransport):
    def __init__(
        self, inner: httpx2.BaseTransport, *, first_data_s: float, gap_s: float, total_s: float
    ):
        self.inner = inner
        self.first_data_s = first_data_s
        self.gap_s = gap_s
        self.total_s = total_s

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        started = time.monotonic()
        response = self.inner.handle_request(request)
        return httpx2.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_BoundedStream(response.stream, self, request, started),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self.inner.close()


class _BoundedStream(httpx2.SyncByteStream):
    def __init__(self, inner, bounds: BoundedStreamTransport, request, started: float):
        self.inner = inner
        self.bounds = bounds
        self.request = request
        self.started = started

    def __iter__(self):
        bounds = self.bounds
        last_data: float | None = None
        pending = b""
        for chunk in self.inner:
            now = time.monotonic()
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if any(line.startswith(b"data:") for line in lines) or not _is_sse_start(pending):
                last_data = now
            if now - self.started > bounds.total_s:
                raise StreamStalled(
                    f"did not finish the answer within {bounds.total_s:g} s", self.request
                )
            if last_data is None and now - self.started > bounds.first_data_s:
                raise StreamStalled(
                    f"sent no answer within {bounds.first_data_s:g} s", self.request
                )
            if last_data is not None and now - last_data > bounds.gap_s:
                raise StreamStalled(
                    f"stopped for over {bounds.gap_s:g} s in the middle of the answer",
                    self.request,
                )
            yield chunk

    def close(self) -> None:
        self.inner.close()


def _is_sse_start(pending: bytes) -> bool:
    """The unfinished line could still be part of an event stream (a comment, a field, or empty);
    any other body (JSON) counts as data at once."""
    head = pending.lstrip()[:6]
    return not head or head.startswith((b":", b"data", b"event", b"id", b"retry"))
