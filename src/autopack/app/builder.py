"""Builds one phase: streams requests to the model, decodes the NDJSON as it arrives, applies each op
to an in-memory ChangeSet, continues after truncation (Contract 3) and sends one repair turn for
rejected ops. A phase split into batches (`BatchDriver`) asks for the next batch in a user turn
after each batch's `done`, in the same conversation. Each request carries the prompt-cache marks
core/budget/caching.py decides from what is planned to follow. Nothing here writes to disk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

from autopack.core.budget.caching import cache_marks
from autopack.core.build import BuildOutcome, BuildSettings, RequestRecord
from autopack.core.edits.changeset import ChangeSet, OpResult
from autopack.core.edits.decoder import DecodedOp, StreamDecoder
from autopack.core.render.prompts import continue_prompt, repair_prompt
from autopack.core.usage import Usage
from autopack.errors import ModelConnectionError, ModelError
from autopack.ports import Message, ModelClient, ModelRequest, ModelResponse, StopReason

OpListener = Callable[[OpResult], None]
StopCheck = Callable[[Usage], str | None]  # usage so far in this build -> why to stop, or None
# (usage so far, the next request's input tokens) -> output tokens the budget still pays for
OutputRoom = Callable[[Usage, int], int | None]
CHARS_PER_TOKEN_HIGH = 2.5  # a high token count for text, to keep input + max_tokens in the window
MIN_OUTPUT_ROOM = 256  # fewer output tokens than this left in the context window: stop, not ask


class BatchDriver(Protocol):
    """The batches of a phase after the first: their settings, and the user turn asking for one
    (given what the batches before it wrote)."""

    @property
    def count(self) -> int: ...

    def settings(self, index: int) -> BuildSettings: ...

    def next_prompt(self, index: int, changes: ChangeSet) -> str: ...


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
    batches: BatchDriver | None = None,
    output_room: OutputRoom | None = None,
) -> BuildOutcome:
    """With `history` (an earlier outcome's messages), `prompt` continues that conversation; with
    `batches`, `prompt` asks for the first batch and `settings` are its settings."""
    build = _Build(client, model, system, changes, settings, phase_id, on_op)
    build.messages = [*history, Message(role="user", content=prompt)]
    build.purpose = first_purpose
    build.batches = batches
    build.output_room = output_room
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
        self.batches: BatchDriver | None = None
        self.batch = 0
        self.batch_start = 0  # index of the batch's first request
        self.batch_continuations = 0
        self.cached_through: int | None = None  # the message a request marked for the cache
        self.summaries: list[str] = []  # of the batches before the current one
        self.output_room: OutputRoom | None = None

    def run(self, stop_check: StopCheck | None) -> BuildOutcome:
        outcome = self.outcome
        while True:
            if outcome.requests and stop_check is not None:
                reason = stop_check(outcome.usage)
                if reason:
                    outcome.error = reason
                    return outcome
            turn = _Turn(self.changes, self.on_op)
            max_tokens, input_high = self._max_tokens()
            if max_tokens < MIN_OUTPUT_ROOM and self.settings.context_window is not None:
                outcome.error = (
                    f"the conversation (about {input_high:,} input tokens, counted high) leaves "
                    f"no room for output in the model's {self.settings.context_window:,}-token "
                    f"context window; last complete op id {self.changes.last_id}"
                )
                return outcome
            room = self.output_room(outcome.usage, input_high) if self.output_room else None
            if room is not None and room < max_tokens:
                if room < MIN_OUTPUT_ROOM:
                    outcome.error = (
                        f"cost budget: what is left pays for {room:,} output tokens; no further "
                        "request"
                    )
                    return outcome
                max_tokens = room  # never more output than the rest of the budget pays for
            response, failure = self._request(turn, max_tokens)
            dropped = isinstance(failure, ModelConnectionError) and failure.mid_stream
            if failure is not None and not dropped:
                outcome.error = f"model API error on {self.purpose} request: {failure}"
                return outcome
            # A dropped stream is cut off like max_tokens: continue after its last complete line
            # (unless the cut came right after a complete `done`: then the response has ended).
            cut = response is None or response.truncated
            if cut and not (self.changes.done and not turn.decoder.tail.strip()):
                if not self._continue(turn):
                    return outcome
                continue
            if self._ended(turn):
                return outcome

    def _max_tokens(self) -> tuple[int, int]:
        """(max_tokens of the next request, its input counted high)."""
        requests = self.outcome.requests
        n = len(requests) - self.batch_start  # request index within the batch
        previous = requests[-1].max_tokens if n > 0 else None
        sizes = [len(m.content) for m in self.messages]
        input_high = int((len(self.system) + sum(sizes)) / CHARS_PER_TOKEN_HIGH)
        return self.settings.max_tokens_at(n, previous, input_high), input_high

    def _request(
        self, turn: _Turn, max_tokens: int
    ) -> tuple[ModelResponse | None, ModelError | None]:
        requests = self.outcome.requests
        n = len(requests) - self.batch_start  # request index within the batch
        sizes = [len(m.content) for m in self.messages]
        planned = 1 + len(self.settings.next_max_tokens)
        later_batches = (self.batches.count - 1 - self.batch) if self.batches else 0
        marks = cache_marks(
            self.settings.cache,
            len(self.system),
            sizes,
            planned_after=max(0, planned - 1 - n) + later_batches,
            unplanned=self.purpose == "repair" or n >= planned,
            at_max=self.purpose != "repair" and max_tokens == self.settings.max_output_tokens,
            cached_through=self.cached_through,
        )
        if marks.messages:
            self.cached_through = max(marks.messages)
        request = ModelRequest(
            model=self.model,
            system=self.system,
            messages=tuple(self.messages),
            max_tokens=max_tokens,
            phase_id=self.phase_id,
            purpose=self.purpose,
            cache=marks,
        )
        response, failure = _send(self.client, request, turn)
        requests.append(_record(request, response, failure, turn))
        return response, failure

    def _continue(self, turn: _Turn) -> bool:
        """Contract 3 after a cut: a new user turn asking for the ops after the last complete
        line. False when the continuation limit is reached."""
        outcome, changes = self.outcome, self.changes
        if self.batch_continuations >= self.settings.max_continuations:
            outcome.error = (
                f"output still cut off after {self.batch_continuations} continuation(s) "
                f"(limit {self.settings.max_continuations}); last complete op id {changes.last_id}"
            )
            return False
        outcome.continuations += 1
        self.batch_continuations += 1
        self.carried += turn.rejected
        changes.resume_after(changes.last_id)
        kept = turn.decoder.complete_text
        if kept.strip():  # the API refuses an empty or blank assistant turn
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
        said = (decoder.complete_text + decoder.tail).rstrip("\n")
        said = said if said.strip() else "(no output)"  # never a blank assistant turn
        if changes.done and not rejected_now:
            if self._next_batch(said):
                return False
            if self.summaries:  # each batch ended with its own summary: keep them all
                changes.summary = " ".join([*self.summaries, changes.summary or ""]).strip()
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

    def _next_batch(self, said: str) -> bool:
        """After a batch's `done`: ask for the next batch in a user turn. False when none is left."""
        if self.batches is None or self.batch + 1 >= self.batches.count:
            return False
        self.batch += 1
        self.settings = self.batches.settings(self.batch)
        self.batch_start, self.batch_continuations = len(self.outcome.requests), 0
        prompt = self.batches.next_prompt(self.batch, self.changes)
        self.summaries.append(self.changes.summary or "")
        self.changes.reopen()  # a batch numbering its ops from 1 again is told the id to use
        self.messages += [
            Message(role="assistant", content=said),
            Message(role="user", content=prompt),
        ]
        self.purpose = "build"
        return True


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
