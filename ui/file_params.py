"""A guard in front of every Gradio endpoint: a file parameter must be a file this app received
through its upload route, never a path of the server.

Any client can call an endpoint with ``{"path": "/any/server/file", "meta": {"_type":
"gradio.FileData"}}``, and Gradio reads such a file while preparing the call, before the app's
own checks run: a named pipe there blocks a worker for good, and a ``url`` instead of a path has
Gradio fetch it. So the JSON body of every call is checked here first: each file object must have
a ``path`` inside Gradio's upload folder (links resolved) and no ``url`` but this app's own file
route for that path (as the page sends it); otherwise the
request is refused with HTTP 400 and one sentence, the same whether the path exists or not.
Bodies over ``MAX_BODY_BYTES`` are refused with 413 (questions and settings are small; files
travel through the upload route, which Gradio limits to the upload size).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

MAX_BODY_BYTES = 1 << 20
REFUSAL = "A file parameter must be a file uploaded to this app; upload the file instead."


def _file_objects(value):
    """Every dict in a JSON value that Gradio would treat as a file."""
    if isinstance(value, dict):
        meta = value.get("meta")
        if (isinstance(meta, dict) and meta.get("_type") == "gradio.FileData") or (
            "path" in value and ("orig_name" in value or "url" in value)
        ):
            yield value
        for inner in value.values():
            yield from _file_objects(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _file_objects(inner)


def files_allowed(body: bytes, upload_root: Path) -> bool:
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return True  # not JSON: Gradio refuses it on its own, and reads no file for it
    root = upload_root.resolve()
    for item in _file_objects(data):
        path = item.get("path")
        if not isinstance(path, str) or not _own_url(item.get("url"), path):
            return False
        try:
            real = Path(path).resolve()
        except (OSError, RuntimeError, ValueError):
            return False
        if root not in real.parents:
            return False
    return True


def _own_url(url, path: str) -> bool:
    """No URL, or the one the page itself sends: this app's file route for that same path."""
    if url in (None, ""):
        return True
    if not isinstance(url, str) or "/file=" not in url:
        return False
    return unquote(url.split("/file=", 1)[1]) == path


class FileParamGuard:
    """ASGI middleware: checks the JSON body of every POST under ``/gradio_api/`` (but the
    upload route itself) before Gradio sees it."""

    def __init__(self, app, upload_root: Path):
        self.app = app
        self.upload_root = upload_root

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or "/gradio_api/" not in scope.get("path", "")
            or scope["path"].rstrip("/").endswith("/gradio_api/upload")
        ):
            await self.app(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_BODY_BYTES:
                await _refuse(send, 413, "The request is too large; send a shorter question.")
                return
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if not files_allowed(body, self.upload_root):
            await _refuse(send, 400, REFUSAL)
            return
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send, status: int, message: str) -> None:
    payload = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
