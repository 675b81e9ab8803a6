"""The local governance store: the run state (`state.json`, which holds the governance requests)
and the append-only audit log (`audit.jsonl`) in a run's output folder. The Action keeps the same
state on GitHub through its own store."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import ValidationError

from autopack.adapters.local_forge import write_text_atomic
from autopack.core.governance.requests import AuditEntry
from autopack.core.jsonl import parse_jsonl
from autopack.core.spec import RunSpec, parse_spec
from autopack.core.state import RunState, SpecOwner
from autopack.core.telemetry import RunTelemetry
from autopack.errors import GovernanceError, RecordError, SpecError

STATE_FILE = "state.json"
TELEMETRY_FILE = "telemetry.json"
SPEC_FILE = "spec.json"
OWNER_FILE = "run.json"  # the run spec.json belongs to
AUDIT_FILE = "audit.jsonl"


class LocalGovernanceStore:
    def __init__(self, out_dir: str | Path) -> None:
        self.out = Path(out_dir)

    @property
    def audit_path(self) -> Path:
        return self.out / AUDIT_FILE

    def load_state(self) -> RunState:
        path = self.out / STATE_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise GovernanceError(
                f"no run state in {self.out} (missing {STATE_FILE}); run `autopack run` first "
                "or pass the run's --out folder"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise GovernanceError(f"cannot read {path}: {exc}") from None
        try:
            return RunState.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "(root)"
            raise GovernanceError(f"{path}: invalid run state at {where}: {first['msg']}") from None

    def save_state(self, state: RunState) -> None:
        write_text_atomic(self.out / STATE_FILE, state.model_dump_json(indent=2) + "\n")

    def load_telemetry(self) -> RunTelemetry:
        """The run's telemetry so far (telemetry.json), so a resume adds to it; empty if none."""
        path = self.out / TELEMETRY_FILE
        try:
            return RunTelemetry.from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return RunTelemetry()
        except (OSError, ValueError) as exc:
            raise RecordError(f"{path}: unreadable telemetry: {exc}") from None

    def load_spec(self, run_id: str | None = None) -> RunSpec:
        """spec.json; with `run_id` (the run of state.json), a spec.json saved by another run
        that shared the folder is refused (run.json names its run; a folder without one, from an
        older version, is taken as it is)."""
        path = self.out / SPEC_FILE
        if run_id is not None:
            self._check_owner(run_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SpecError(
                [f"(file): missing; pass --spec (no {SPEC_FILE} in {self.out})"], str(path)
            ) from None
        except (OSError, ValueError) as exc:
            raise SpecError([f"(file): cannot read: {exc}"], str(path)) from None
        return parse_spec(data, str(path))

    def _check_owner(self, run_id: str) -> None:
        path = self.out / OWNER_FILE
        try:
            owner = SpecOwner.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError, ValidationError) as exc:
            raise GovernanceError(f"cannot read {path}: {exc}") from None
        if owner.run_id != run_id:
            raise GovernanceError(
                f"{self.out / SPEC_FILE} is of run {owner.run_id} (branch {owner.branch}), but "
                f"{self.out / STATE_FILE} is of run {run_id}: two runs shared this output folder "
                f"(run {owner.run_id} saved no state there). Pass run {run_id}'s spec with "
                "--spec, or give each run its own --out"
            )

    # -- the audit log (AuditLog port) -------------------------------------------------------
    def append(self, entry: AuditEntry) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        with self.audit_path.open("a", encoding="utf-8") as fh:
            fh.write(entry.model_dump_json() + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def entries(self) -> list[AuditEntry]:
        try:
            lines = self.audit_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        return parse_jsonl(
            lines,
            AuditEntry,
            lambda p: RecordError(f"{self.audit_path}:{p.line}: {p.field or 'line'}: {p.message}"),
        )
