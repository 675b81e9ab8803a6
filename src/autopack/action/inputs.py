"""The action's settings: its inputs (INPUT_* variables, as action.yml declares them) and the
variables GitHub sets for every step (GITHUB_*). Pure: `from_env` takes the mapping to read."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from autopack.action import tracking
from autopack.core.gates.environment import parse_allow
from autopack.core.governance.requests import DecisionLabels
from autopack.core.paths import check_repo_path
from autopack.errors import AutopackError, PathPolicyError


class ActionConfigError(AutopackError):
    """The action's inputs or environment are missing or invalid; the message names each one."""


def _split_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(x.strip() for x in re.split(r"[,\s]+", value) if x.strip())
    return tuple(value or ())


class ActionInputs(BaseModel):
    """One field per input of action.yml; the defaults here match the ones documented there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    github_token: str = Field(min_length=1)
    anthropic_api_key: str = ""
    anthropic_base_url: str = ""
    state_key: str = ""  # signs the tracking comment's state; empty: derived from the API key
    model: str = ""
    trigger_label: str = Field(default="autopack", min_length=1)
    approve_label: str = Field(default="autopack:approve", min_length=1)
    deny_label: str = Field(default="autopack:deny", min_length=1)
    command_prefix: str = Field(default="/autopack", min_length=2, pattern=r"^\S+$")
    base_branch: str = ""
    spec_path: str = ""
    issue_number: int | None = Field(default=None, gt=0)
    max_cost_usd: float = Field(default=5.0, ge=0)  # 0: no cap
    max_tokens: int | None = Field(default=None, gt=0)  # None: the budget policy decides
    allowed_bots: tuple[str, ...] = ()
    test_command: str = ""
    test_python: str = ""
    setup_command: str = ""
    test_env_dir: str = ""  # empty: RUNNER_TEMP/autopack-test-env
    test_env_allow: tuple[str, ...] = ()
    baseline_cache: str = ""  # empty: RUNNER_TEMP/autopack-baseline-cache
    replay: str = ""
    instructions: str = ""  # extra guidance for the model (the maintainers', like AGENTS.md)
    context_budget: int | None = Field(default=None, ge=0)  # None: the spec's, else sized

    @field_validator("allowed_bots", mode="before")
    @classmethod
    def _bots(cls, value: Any) -> tuple[str, ...]:
        return _split_list(value)

    @field_validator("test_env_allow", mode="before")
    @classmethod
    def _allow(cls, value: Any) -> tuple[str, ...]:
        return parse_allow(value if isinstance(value, str) else list(value or ()))

    @property
    def cost_cap(self) -> float | None:
        """The cap on the run's model cost in USD; None when max_cost_usd is 0 (no cap)."""
        return self.max_cost_usd or None

    @property
    def decision_labels(self) -> DecisionLabels:
        return DecisionLabels(
            approve=self.approve_label, deny=self.deny_label, command=self.command_prefix
        )

    @property
    def secrets(self) -> list[str]:
        return [s for s in (self.github_token, self.anthropic_api_key, self.state_key) if s]

    @property
    def state_secret(self) -> str:
        """What the tracking comment's state is signed with: a secret other workflows and bots
        do not have (the state_key input, else the Anthropic API key)."""
        secret = self.state_key or self.anthropic_api_key
        if not secret:
            raise ActionConfigError(
                "inputs state_key and anthropic_api_key are both empty: Autopack signs its run "
                "state with one of them (set anthropic_api_key, or state_key from a secret)"
            )
        return secret

    @property
    def signing_key(self) -> bytes:
        """The key of the tracking comment's state signature (see tracking.state_key)."""
        return tracking.state_key(self.state_secret)


class ActionEnv(BaseModel):
    """The GITHUB_* variables the action reads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_name: str = Field(min_length=1)
    event_path: str = Field(min_length=1)
    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    api_url: str = "https://api.github.com"
    server_url: str = "https://github.com"
    workspace: str = Field(min_length=1)
    output: str = ""
    step_summary: str = ""
    actor: str = ""
    run_id: str = ""
    temp: str = ""

    @property
    def run_url(self) -> str:
        if not self.run_id:
            return ""
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"


_ENV_FIELDS = {
    "event_name": "GITHUB_EVENT_NAME",
    "event_path": "GITHUB_EVENT_PATH",
    "repository": "GITHUB_REPOSITORY",
    "api_url": "GITHUB_API_URL",
    "server_url": "GITHUB_SERVER_URL",
    "workspace": "GITHUB_WORKSPACE",
    "output": "GITHUB_OUTPUT",
    "step_summary": "GITHUB_STEP_SUMMARY",
    "actor": "GITHUB_ACTOR",
    "run_id": "GITHUB_RUN_ID",
    "temp": "RUNNER_TEMP",
}


def _problems(exc: ValidationError, names: Mapping[str, str]) -> str:
    out = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "?"
        what = "is required" if err["type"] == "missing" else err["msg"]
        out.append(f"{names.get(field, field)}: {what}")
    return "; ".join(out)


def _folder_input(name: str, value: str, env: ActionEnv, default: str) -> str:
    """A folder input: absolute, or relative to GITHUB_WORKSPACE like actions/cache's `path`;
    empty: `default` under RUNNER_TEMP."""
    value = value.strip()
    if not value:
        return str(Path(env.temp or Path(env.workspace).parent) / default)
    if Path(value).is_absolute():
        return value
    try:
        return str(Path(env.workspace) / check_repo_path(value, allow_folder=True))
    except PathPolicyError as exc:
        raise ActionConfigError(
            f"input {name} ({input_env_name(name)}): {exc}; give an absolute folder or one "
            "inside the workspace"
        ) from None


def baseline_cache_dir(inputs: ActionInputs, env: ActionEnv) -> str:
    """The folder caching test baselines by commit: the baseline_cache input, else a folder
    under RUNNER_TEMP."""
    return _folder_input("baseline_cache", inputs.baseline_cache, env, "autopack-baseline-cache")


def managed_env_dir(inputs: ActionInputs, env: ActionEnv) -> str:
    """The folder of the managed test environment: the test_env_dir input, else a folder under
    RUNNER_TEMP (kept for this job only)."""
    return _folder_input("test_env_dir", inputs.test_env_dir, env, "autopack-test-env")


def input_env_name(name: str) -> str:
    """GitHub's variable for input `name`: INPUT_ + the name upper-cased (spaces become `_`)."""
    return "INPUT_" + name.replace(" ", "_").upper()


def inputs_from_env(env: Mapping[str, str]) -> ActionInputs:
    raw: dict[str, Any] = {}
    names = {}
    for name, info in ActionInputs.model_fields.items():
        var = input_env_name(name)
        names[name] = f"input {name} ({var})"
        value = env.get(var, "").strip()
        if value:
            raw[name] = value
        elif info.is_required():
            raw[name] = ""
    try:
        return ActionInputs.model_validate(raw)
    except ValidationError as exc:
        raise ActionConfigError(f"invalid action inputs: {_problems(exc, names)}") from None


def env_from_env(env: Mapping[str, str]) -> ActionEnv:
    raw = {field: env[var] for field, var in _ENV_FIELDS.items() if env.get(var)}
    try:
        return ActionEnv.model_validate(raw)
    except ValidationError as exc:
        raise ActionConfigError(
            f"not running as a GitHub Action? {_problems(exc, _ENV_FIELDS)}"
        ) from None
