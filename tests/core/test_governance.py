"""The governance policy (pure): protected globs from three sources, never-approvable paths, risk
levels and the built-in auto-approval rule."""

from __future__ import annotations

import pytest

from autopack.core.governance.policy import (
    BUILTIN_PROTECTED,
    GovernancePolicy,
    RiskLevel,
    build_policy,
    glob_match,
    never_approvable,
    parse_config,
)
from autopack.errors import ConfigError, SpecError


@pytest.mark.parametrize(
    ("glob", "path", "expected"),
    [
        (".github/**", ".github/CODEOWNERS", True),
        (".github/**", ".github/workflows/ci.yml", True),
        (".github/**", ".github", True),
        (".github/**", "src/.github/x", False),
        (".github/**", ".githubx/y", False),
        (".env*", ".env", True),
        (".env*", ".env.example", True),
        (".env*", "app/.env.local", True),
        (".env*", "env.txt", False),
        (".env*", "src/my.env", False),
        ("**/secrets/**", "secrets/key.pem", True),
        ("**/secrets/**", "deploy/secrets/prod/key.pem", True),
        ("**/secrets/**", "src/secrets.py", False),
        ("CODEOWNERS", "CODEOWNERS", True),
        ("CODEOWNERS", "docs/CODEOWNERS", True),
        ("CODEOWNERS", "CODEOWNERS.md", False),
        ("src/core/**", "src/core/a/b.py", True),
        ("src/core/**", "src/corex.py", False),
        ("src/*.py", "src/a.py", True),
        ("src/*.py", "src/pkg/a.py", False),
        ("src/?.py", "src/a.py", True),
        ("src/?.py", "src/ab.py", False),
        (".github/workflows/**", ".GitHub/Workflows/ci.yml", True),  # case-insensitive
    ],
)
def test_glob_matching(glob: str, path: str, expected: bool) -> None:
    assert glob_match(glob, path) is expected


def test_policy_protects_builtins_config_and_spec_paths() -> None:
    config = parse_config("protected_paths: ['src/core/**']\n")
    policy = build_policy(config, ["migrations/**", "src/core/**"])
    assert policy.protected[: len(BUILTIN_PROTECTED)] == BUILTIN_PROTECTED
    assert policy.protected.count("src/core/**") == 1  # deduplicated
    for path in (
        ".github/dependabot.yml",
        ".env.example",
        "ops/secrets/token",
        "CODEOWNERS",
        ".autopack.yml",
        "src/core/engine.py",
        "migrations/0001.sql",
    ):
        assert policy.is_protected(path), path
    for path in ("src/app.py", "README.md", "tests/test_x.py"):
        assert not policy.is_protected(path), path


def test_workflow_and_git_paths_are_always_protected_and_never_approvable() -> None:
    # Even a policy configured with no protected globs at all keeps them.
    bare = GovernancePolicy(protected=())
    for path in (".github/workflows/ci.yml", ".git/config", "sub/.git/hooks/pre-commit"):
        assert never_approvable(path)
        assert bare.is_protected(path)
        assert bare.path_risk(path) is RiskLevel.critical
    assert not never_approvable(".github/dependabot.yml")


def test_risk_levels_builtin_rules() -> None:
    policy = build_policy()
    assert policy.path_risk("docs/guide.md") is RiskLevel.low
    assert policy.path_risk("src/app.py") is RiskLevel.medium
    assert policy.path_risk(".env.example") is RiskLevel.high
    assert policy.path_risk(".github/dependabot.yml") is RiskLevel.high
    assert policy.path_risk("CODEOWNERS") is RiskLevel.critical
    assert policy.path_risk(".autopack.yml") is RiskLevel.critical
    assert policy.path_risk("docs/secrets/x") is RiskLevel.critical  # the highest rule wins
    assert policy.risk(["docs/a.md", ".env.example"]) is RiskLevel.high


def test_configured_risk_rules_raise_but_never_lower_a_level() -> None:
    config = parse_config(
        "risk_rules:\n"
        "  - {paths: ['src/billing/**'], level: critical}\n"
        "  - {paths: ['.github/workflows/**', '.env*', 'CODEOWNERS'], level: low}\n"
    )
    policy = build_policy(config)
    assert policy.path_risk("src/billing/pay.py") is RiskLevel.critical
    assert policy.path_risk(".github/workflows/ci.yml") is RiskLevel.critical
    assert policy.path_risk(".env.example") is RiskLevel.high
    assert policy.path_risk("CODEOWNERS") is RiskLevel.critical


def test_auto_approval_is_off_unless_configured() -> None:
    decision = build_policy().auto_approval(["docs/a.md"], changed_lines=1, deletes=False)
    assert not decision.allowed
    assert decision.reasons == ("auto-approval is not enabled",)


def _auto(extra: str = "") -> GovernancePolicy:
    return build_policy(parse_config("auto_approve:\n  enabled: true\n" + extra))


def test_auto_approval_allows_small_test_and_docs_changes() -> None:
    policy = _auto()
    allowed = policy.auto_approval(
        ["tests/test_a.py", "docs/a.md"], changed_lines=100, deletes=False
    )
    assert allowed.allowed and allowed.reasons == ()


@pytest.mark.parametrize(
    ("paths", "lines", "deletes", "reason"),
    [
        (["src/app.py"], 3, False, "not a tests or docs path: src/app.py"),
        (["docs/a.md", ".env.example"], 3, False, "not a tests or docs path: .env.example"),
        (["docs/a.md"], 101, False, "101 changed lines (limit 100)"),
        (["tests/test_a.py"], 2, True, "deletes a file"),
        (["docs/secrets/token.md"], 1, False, "critical path: docs/secrets/token.md"),
        (["docs/CODEOWNERS"], 1, False, "critical path: docs/CODEOWNERS"),
    ],
)
def test_auto_approval_refusals(paths: list[str], lines: int, deletes: bool, reason: str) -> None:
    decision = _auto().auto_approval(paths, changed_lines=lines, deletes=deletes)
    assert not decision.allowed
    assert reason in decision.reasons


def test_auto_approval_line_limit_can_be_lowered_not_raised() -> None:
    policy = _auto("  max_changed_lines: 10\n")
    assert not policy.auto_approval(["docs/a.md"], changed_lines=11, deletes=False).allowed
    assert policy.auto_approval(["docs/a.md"], changed_lines=10, deletes=False).allowed
    with pytest.raises(ConfigError, match=r"auto_approve\.max_changed_lines"):
        parse_config("auto_approve: {enabled: true, max_changed_lines: 500}\n")


def test_workflow_paths_are_never_auto_approved_even_when_configured() -> None:
    policy = build_policy(
        parse_config(
            "protected_paths: ['.github/workflows/**']\n"
            "risk_rules: [{paths: ['.github/workflows/**'], level: low}]\n"
            "auto_approve: {enabled: true}\n"
        )
    )
    decision = policy.auto_approval([".github/workflows/ci.yml"], changed_lines=1, deletes=False)
    assert not decision.allowed
    assert "critical path: .github/workflows/ci.yml" in decision.reasons


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("protected_path: ['x']\n", "protected_path: unknown key"),
        ("protected_paths: ['../outside/**']\n", "must be repo-relative"),
        ("protected_paths: ['/etc/**']\n", "must be repo-relative"),
        ("risk_rules: [{paths: ['a/**'], level: severe}]\n", "risk_rules.0.level"),
        ("auto_approve: {enabled: 'sometimes'}\n", "auto_approve.enabled"),
        ("- a\n- b\n", "expected a mapping"),
        ("protected_paths: [a\n", "not valid YAML"),
        ("request_ttl_hours: 0\n", "request_ttl_hours"),
    ],
)
def test_bad_config_names_the_field(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"\.autopack\.yml") as info:
        parse_config(text)
    assert message in str(info.value)


def test_empty_config_is_the_default() -> None:
    assert parse_config(None) == parse_config("") == parse_config("# nothing\n")
    assert parse_config(None).auto_approve.enabled is False


def test_bad_spec_protected_paths_are_a_spec_error() -> None:
    with pytest.raises(SpecError, match=r"protected_paths\[1\]: .*must be repo-relative"):
        build_policy(None, ["ok/**", "../up/**"])
