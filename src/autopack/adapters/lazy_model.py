"""A model client made on the first request: a resume whose remaining phases need no model (held
phases applied after approval, committed ones skipped) runs offline, without --replay or an API
key; only when a phase does call the model is the client made, and if it cannot be, that call
fails with ModelUnavailableError naming the phase (the builder then fails that phase; the others
go on)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from autopack.errors import AutopackError, ModelUnavailableError
from autopack.ports import ModelClient, ModelRequest, ModelResponse, TextSink, TokenCounter


class LazyModelClient:
    def __init__(self, factory: Callable[[], ModelClient]) -> None:
        self._factory = factory
        self._client: ModelClient | None = None
        self._failure: str | None = None

    @property
    def made(self) -> bool:
        """Whether the real client was made (a model call was needed)."""
        return self._client is not None

    def stream(self, request: ModelRequest, on_text: TextSink) -> ModelResponse:
        if self._client is None:
            if self._failure is None:
                try:
                    self._client = self._factory()
                except AutopackError as exc:
                    self._failure = str(exc)
            if self._client is None:
                phase = f"phase {request.phase_id}" if request.phase_id else "the run"
                raise ModelUnavailableError(
                    f"{phase} needs a model call ({request.purpose}), but no model client can be "
                    f"made: {self._failure}"
                )
        return self._client.stream(request, on_text)

    def count_tokens(self, model: str, texts: Sequence[str]) -> list[int] | None:
        """The real client's counts, when it can be made and counts; else None (estimate)."""
        if self._client is None and self._failure is None:
            try:
                self._client = self._factory()
            except AutopackError as exc:
                self._failure = str(exc)
        if isinstance(self._client, TokenCounter):
            return self._client.count_tokens(model, texts)
        return None

    def close(self) -> None:
        """Close the real client if one was made (its HTTP connections)."""
        close = getattr(self._client, "close", None)
        if callable(close):
            close()


__all__ = ["LazyModelClient"]
