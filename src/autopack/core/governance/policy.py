"""Governance policy (pure): which paths are protected, which can never be approved, how risky a
change is, and whether a request may be approved automatically.

Protected paths are globs from three sources: the built-in defaults, the repo's `.autopack.yml`
(`protected_paths`) and the run spec (`protected_paths`). Globs use `/` separators, `*` and `?` within
one segment and `**` for any number of segments; a glob without `/` matches the file name at any
depth (like .gitignore). Matching ignores letter case, so `.GitHub/Workflows/x.yml` is still a
workflow on a case-insensitive file system.

`.github/workflows/**` and `.git/**` are never approvable, whatever the configuration says.

Risk: every rule (built-in and configured) that matches a path raises that path's level; a path
matching no rule is `medium`. A request's risk is the highest level of its paths. Configured rules can
raise a level, never lower a built-in one.

Auto-approval is off unless `.autopack.yml` enables it. The built-in rule then approves a request
only when every path is under a tests or docs folder, at most `max_changed_lines` (<= 100) lines
change, nothing is deleted, and no path is `critical` (never-approvable paths are always critical)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from enum import StrEnum
from functools import lru_cache

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from autopack.errors import ConfigError, SpecError

CONFIG_FILE = ".autopack.yml"
BUILTIN_PROTECTED: tuple[str, ...] = (
    ".github/**",
    ".env*",
    "**/secrets/**",
    "CODEOWNERS",
    CONFIG_FILE,
)
NEVER_APPROVABLE: tuple[str, ...] = (".github/workflows/**", ".git/**")
TESTS_AND_DOCS: tuple[str, ...] = ("tests/**", "test/**", "**/tests/**", "docs/**", "doc/**")
MAX_AUTO_APPROVE_LINES = 100
DEFAULT_TTL_HOURS = 14 * 24


class RiskLevel(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {RiskLevel.low: 0, RiskLevel.medium: 1, RiskLevel.high: 2, RiskLevel.critical: 3}


def _check_glob(value: str) -> str:
    glob = value.strip()
    if not glob:
        raise ValueError("a path glob is empty")
    if glob.startswith("/") or "\\" in glob or ".." in glob.split("/"):
        raise ValueError(f"path glob {value!r} must be repo-relative, with '/' and no '..'")
    return glob


class RiskRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    paths: tuple[str, ...] = Field(min_length=1)
    level: RiskLevel

    @field_validator("paths")
    @classmethod
    def _globs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_glob(v) for v in value)


BUILTIN_RISK_RULES: tuple[RiskRule, ...] = (
    RiskRule(paths=TESTS_AND_DOCS, level=RiskLevel.low),
    RiskRule(paths=(".github/**", ".env*"), level=RiskLevel.high),
    RiskRule(
        paths=(*NEVER_APPROVABLE, "**/secrets/**", "CODEOWNERS", ".env", CONFIG_FILE),
        level=RiskLevel.critical,
    ),
)


class AutoApproveConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    max_changed_lines: int = Field(default=MAX_AUTO_APPROVE_LINES, ge=0, le=MAX_AUTO_APPROVE_LINES)


class GovernanceConfig(BaseModel):
    """The governance settings of a repo's `.autopack.yml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    protected_paths: tuple[str, ...] = ()
    risk_rules: tuple[RiskRule, ...] = ()
    auto_approve: AutoApproveConfig = AutoApproveConfig()
    request_ttl_hours: int = Field(default=DEFAULT_TTL_HOURS, gt=0)

    @field_validator("protected_paths")
    @classmethod
    def _globs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_glob(v) for v in value)


def parse_config(text: str | None, source: str = CONFIG_FILE) -> GovernanceConfig:
    """The governance config from the text of `.autopack.yml` (None or empty: the defaults).
    Raises ConfigError naming each bad field."""
    if text is None or not text.strip():
        return GovernanceConfig()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    if data is None:
        return GovernanceConfig()
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top, got {type(data).__name__}")
    try:
        return GovernanceConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err["loc"]) or "(root)"
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{where}: {msg.removeprefix('Value error, ')}")
        raise ConfigError(f"{source}: " + "; ".join(problems)) from None


@lru_cache(maxsize=512)
def _glob_regex(glob: str) -> re.Pattern[str]:
    if "/" not in glob.rstrip("/"):
        glob = "**/" + glob
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif glob.startswith("**", i):
            out += ".*"
            i += 2
        elif glob[i] == "*":
            out += "[^/]*"
            i += 1
        elif glob[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(glob[i])
            i += 1
    # `dir/**` also names the folder itself; `.github/**` protects `.github` as a file too.
    out = out.removesuffix("/.*") + "(?:/.*)?" if glob.endswith("/**") else out
    return re.compile(out, re.IGNORECASE)


def glob_match(glob: str, path: str) -> bool:
    """Whether repo-relative `path` matches `glob` (see the module docstring)."""
    return _glob_regex(glob).fullmatch(path) is not None


def matches_any(globs: Iterable[str], path: str) -> bool:
    return any(glob_match(g, path) for g in globs)


def never_approvable(path: str) -> bool:
    """`.github/workflows/**` and `.git/**`: no configuration and no approval can allow them."""
    return matches_any(NEVER_APPROVABLE, path) or any(
        part.lower() == ".git" for part in path.split("/")
    )


class AutoApproval(BaseModel):
    model_config = ConfigDict(frozen=True)

    allowed: bool
    reasons: tuple[str, ...] = ()


class GovernancePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    protected: tuple[str, ...] = BUILTIN_PROTECTED
    risk_rules: tuple[RiskRule, ...] = BUILTIN_RISK_RULES
    auto_approve: AutoApproveConfig = AutoApproveConfig()
    request_ttl_hours: int = DEFAULT_TTL_HOURS

    def is_protected(self, path: str) -> bool:
        return never_approvable(path) or matches_any(self.protected, path)

    def path_risk(self, path: str) -> RiskLevel:
        if never_approvable(path):
            return RiskLevel.critical
        levels = [r.level for r in self.risk_rules if matches_any(r.paths, path)]
        return max(levels, key=lambda lv: lv.rank) if levels else RiskLevel.medium

    def risk(self, paths: Iterable[str]) -> RiskLevel:
        levels = [self.path_risk(p) for p in paths]
        return max(levels, key=lambda lv: lv.rank) if levels else RiskLevel.low

    def auto_approval(
        self, paths: Sequence[str], changed_lines: int, deletes: bool
    ) -> AutoApproval:
        """The built-in auto-approval rule; `reasons` says why a request is refused."""
        if not self.auto_approve.enabled:
            return AutoApproval(allowed=False, reasons=("auto-approval is not enabled",))
        reasons = []
        outside = [p for p in paths if not matches_any(TESTS_AND_DOCS, p)]
        if outside:
            reasons.append(f"not a tests or docs path: {', '.join(outside)}")
        critical = [p for p in paths if self.path_risk(p) is RiskLevel.critical]
        if critical:
            reasons.append(f"critical path: {', '.join(critical)}")
        if changed_lines > self.auto_approve.max_changed_lines:
            reasons.append(
                f"{changed_lines} changed lines (limit {self.auto_approve.max_changed_lines})"
            )
        if deletes:
            reasons.append("deletes a file")
        if not paths:
            reasons.append("no paths")
        return AutoApproval(allowed=not reasons, reasons=tuple(reasons))


def build_policy(
    config: GovernanceConfig | None = None, spec_protected: Sequence[str] = ()
) -> GovernancePolicy:
    """The policy for a run: built-in defaults + the repo's config + the run spec."""
    cfg = config or GovernanceConfig()
    problems = []
    for i, glob in enumerate(spec_protected):
        try:
            _check_glob(glob)
        except ValueError as exc:
            problems.append(f"protected_paths[{i}]: {exc}")
    if problems:
        raise SpecError(problems)
    protected: list[str] = []
    for glob in (*BUILTIN_PROTECTED, *cfg.protected_paths, *spec_protected):
        checked = _check_glob(glob)
        if checked not in protected:
            protected.append(checked)
    return GovernancePolicy(
        protected=tuple(protected),
        risk_rules=(*BUILTIN_RISK_RULES, *cfg.risk_rules),
        auto_approve=cfg.auto_approve,
        request_ttl_hours=cfg.request_ttl_hours,
    )


__all__ = [
    "BUILTIN_PROTECTED",
    "CONFIG_FILE",
    "NEVER_APPROVABLE",
    "AutoApproval",
    "AutoApproveConfig",
    "GovernanceConfig",
    "GovernancePolicy",
    "RiskLevel",
    "RiskRule",
    "build_policy",
    "glob_match",
    "never_approvable",
    "parse_config",
]
