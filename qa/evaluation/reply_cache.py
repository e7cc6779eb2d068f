"""A reply cache for evaluations: every model reply kept on disk by the exact request, so a change
made after generation replays a whole set in seconds and a new prompt alone calls the model.

Used by `newsdesk eval --replies-cache DIR`; it wraps the engine's model and changes nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


class CachedReplies:
    """A chat model whose replies come from `folder` when the same request was made before.

    The key is the whole request: the model (backend, name, endpoint), the messages and the token
    limit. A reply is stored only once the model has finished it: a stream that failed or was cut
    short is never replayed.
    """

    def __init__(self, model, folder: Path):
        self.model = model
        self.info = model.info
        self.folder = folder
        self.cached = 0  # replies read from the folder
        self.generated = 0  # replies the model made

    def stream(self, messages: list[dict[str, str]], max_tokens: int = 200) -> Iterator[str]:
        request = self._request(messages, max_tokens=max_tokens)
        path = self._path(request)
        stored = self._stored(path)
        if stored is not None:
            self.cached += 1
            yield stored
            return
        pieces: list[str] = []
        for piece in self.model.stream(messages, max_tokens):
            pieces.append(piece)
            yield piece
        self.generated += 1
        self._store(path, request, "".join(pieces))

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 200) -> str:
        return "".join(self.stream(messages, max_tokens))

    def first_token_chances(self, messages: list[dict[str, str]], top: int = 10) -> dict[str, float] | None:
        request = self._request(messages, first_token_chances=top)
        path = self._path(request)
        stored = self._stored(path)
        if stored is not None:
            self.cached += 1
            return json.loads(stored)
        chances = self.model.first_token_chances(messages, top)
        self.generated += 1
        self._store(path, request, json.dumps(chances))
        return chances

    def __getattr__(self, name: str):
        # Everything else (state, queue_wait, warm_up) is the wrapped model's own.
        return getattr(self.model, name)

    def _request(self, messages: list[dict[str, str]], **asked: int) -> dict:
        """The key's content: the model, the messages and what was asked of them."""
        return {"model": [self.info.backend, self.info.name, self.info.base_url],
                "messages": messages, **asked}

    def _path(self, request: dict) -> Path:
        encoded = json.dumps(request, ensure_ascii=False, sort_keys=True).encode("utf-8")
        key = hashlib.sha256(encoded).hexdigest()
        return self.folder / key[:2] / f"{key}.json"

    @staticmethod
    def _stored(path: Path) -> str | None:
        try:
            return str(json.loads(path.read_text(encoding="utf-8"))["reply"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # not cached, or a file cut short: ask the model

    @staticmethod
    def _store(path: Path, request: dict, reply: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole, then renamed: a run stopped mid-write leaves no half reply to replay.
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump({"request": request, "reply": reply}, stream, ensure_ascii=False)
        os.replace(temporary, path)
