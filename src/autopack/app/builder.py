"""Builds one phase: streams requests to the model, decodes the NDJSON as it arrives, applies each op
to an in-memory ChangeSet, continues after truncation (Contract 3) and sends one repair turn for
rejected ops. Nothing here writes to disk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from autopack.core.build import BuildOutcome, BuildSettings, RequestRecord
from autopack.core.edits.changeset import ChangeSet, OpResult
from autopack.core.edits.decoder import DecodedOp, StreamDecoder
from autopack.core.render.prompts import continue_prompt, repair_prompt
from autopack.core.usage import Usage
from autopack.errors import ModelConnectionError, ModelError
from autopack.ports import Message, ModelClient, ModelRequest, ModelResponse, StopReason

OpListener = Callable[[OpResult], None]
StopCheck = Callable[[Usage], str | None]  # usage so far in this build -> why to stop, or None


class _Turn:
    """One response: decodes text as it arrives and applies each complete op at once."""

    def __init__(self, changes: ChangeSet, on_op: OpListener | None) -> None:
        self.changes = changes
        self.on_op = on_op
        self.decoder = StreamDecoder()
        self.received = 0
        self.malformed = 0
        self.rejected: list[str] = []

    def on_text(self, chunk: str) -> None:
        for item in self.decoder.feed(chunk):
            if isinstance(item, DecodedOp):
                self.received += 1
                result = self.changes.apply(item.op)
            else:
                self.malformed += 1
                result = self.changes.reject_line(item)
            if result.status == "rejected":
                self.rejected.append(result.describe())
            if self.on_op is not None:
                self.on_op(result)


def build_phase(
    client: ModelClient,
    *,
    model: str,
    system: str,
    prompt: str,
    changes: ChangeSet,
    settings: BuildSettings,
    phase_id: str | None = None,
    on_op: OpListener | None = None,
    history: tuple[Message, ...] = (),
    first_purpose: Literal["build", "repair"] = "build",
    stop_check: StopCheck | None = None,
) -> BuildOutcome:
    """With `history` (an earlier outcome's messages), `prompt` continues that conversation."""
    build = _Build(client, model, system, changes, settings, phase_id, on_op)
    build.messages = [*history, Message(role="user", content=prompt)]
    build.purpose = first_purpose
    return build.run(stop_check)


class _Build:
    """One phase's conversation: requests until `done` (complete) or a limit (error)."""

    def __init__(
        self,
        client: ModelClient,
        model: str,
        system: str,
        changes: ChangeSet,
        settings: BuildSettings,
        phase_id: str | None,
        on_op: OpListener | None,
    ) -> None:
        self.client, self.model, self.system = client, model, system
        self.changes, self.settings, self.phase_id, self.on_op = changes, settings, phase_id, on_op
        self.messages: list[Message] = []
        self.outcome = BuildOutcome(complete=False)
        self.purpose: str = "build"
        self.carried: list[str] = []  # rejections of turns cut off since the last repair

    def run(self, stop_check: StopCheck | None) -> BuildOutcome:
        outcome = self.outcome
        while True:
            if outcome.requests and stop_check is not None:
                reason = stop_check(outcome.usage)
                if reason:
                    outcome.error = reason
                    return outcome
            turn = _Turn(self.changes, self.on_op)
            response, failure = self._request(turn)
            dropped = isinstance(failure, ModelConnectionError) and failure.mid_stream
            if failure is not None and not dropped:
                outcome.error = f"model API error on {self.purpose} request: {failure}"
                return outcome
            # A dropped stream is cut off like max_tokens: continue after its last complete line.
            if response is None or response.truncated:
                if not self._continue(turn):
                    return outcome
                continue
            if self._ended(turn):
                return outcome

    def _request(self, turn: _Turn) -> tuple[ModelResponse | None, ModelError | None]:
        requests = self.outcome.requests
        previous = requests[-1].max_tokens if requests else None
        request = ModelRequest(
            model=self.model,
            system=self.system,
            messages=tuple(self.messages),
            max_tokens=self.settings.max_tokens_at(len(requests), previous),
            phase_id=self.phase_id,
            purpose=self.purpose,
        )
        response, failure = _send(self.client, request, turn)
        requests.append(_record(request, response, failure, turn))
        return response, failure

    def _continue(self, turn: _Turn) -> bool:
        """Contract 3 after a cut: a new user turn asking for the ops after the last complete
        line. False when the continuation limit is reached."""
        outcome, changes = self.outcome, self.changes
        if outcome.continuations >= self.settings.max_continuations:
            outcome.error = (
                f"output still cut off after {outcome.continuations} continuation(s) "
                f"(limit {self.settings.max_continuations}); last complete op id {changes.last_id}"
            )
            return False
        outcome.continuations += 1
        self.carried += turn.rejected
        changes.resume_after(changes.last_id)
        kept = turn.decoder.complete_text
        if kept:
            self.messages += [
                Message(role="assistant", content=kept.rstrip("\n")),
                Message(role="user", content=continue_prompt(changes.last_id)),
            ]
        self.purpose = "continue"
        return True

    def _ended(self, turn: _Turn) -> bool:
        """A response that ended on its own: complete, or one repair turn for its problems.
        True when the build is over (complete or out of repairs)."""
        outcome, changes, decoder = self.outcome, self.changes, turn.decoder
        if decoder.tail.strip():
            # The response ended (not cut off) without a final newline: its last line is all the
            # model wrote, so it is decoded like any other; a broken one is reported as malformed.
            turn.on_text("\n")
        rejected_now, self.carried = self.carried + turn.rejected, []
        said = (decoder.complete_text + decoder.tail).rstrip("\n") or "(no output)"
        if changes.done and not rejected_now:
            outcome.complete = True
            outcome.messages = [*self.messages, Message(role="assistant", content=said)]
            return True
        problems = rejected_now or ["the stream ended without a 'done' op"]
        if outcome.repairs >= self.settings.repair_turns:
            outcome.error = "; ".join(problems[:5]) + (
                f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            )
            return True
        outcome.repairs += 1
        changes.reopen()
        self.messages += [
            Message(role="assistant", content=said),
            Message(role="user", content=repair_prompt(changes.last_id, problems)),
        ]
        self.purpose = "repair"
        return False


def _send(
    client: ModelClient, request: ModelRequest, turn: _Turn
) -> tuple[ModelResponse | None, ModelError | None]:
    """One streamed request; a model error is returned (the text that arrived is already applied)."""
    try:
        return client.stream(request, turn.on_text), None
    except ModelError as exc:
        return None, exc


def _record(
    request: ModelRequest, response: ModelResponse | None, failure: ModelError | None, turn: _Turn
) -> RequestRecord:
    if response is not None:
        stop: StopReason | Literal["dropped", "error"] = response.stop_reason
        usage, elapsed = response.usage, response.elapsed_s
    else:
        stop = "dropped" if isinstance(failure, ModelConnectionError) else "error"
        usage = getattr(failure, "usage", None) or Usage()
        elapsed = None
    return RequestRecord(
        purpose=request.purpose,
        max_tokens=request.max_tokens,
        stop_reason=stop,
        usage=usage,
        ops_received=turn.received,
        malformed_lines=turn.malformed,
        elapsed_s=elapsed,
        error=str(failure) if failure is not None else "",
    )
