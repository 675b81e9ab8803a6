"""The environment variables the repo's tests and the setup command get (pure): an allow-list, not a
deny-list, so a secret the runner or the workflow holds (INPUT_GITHUB_TOKEN, GITHUB_TOKEN,
ANTHROPIC_API_KEY, ACTIONS_ID_TOKEN_REQUEST_TOKEN, ...) never reaches model-written code.

Allowed: the names in ALLOWED_NAMES (PATH, HOME, locale, temp folders, CI markers, CA bundles, XDG
folders), and names starting with LC_, PYTHON, PYTEST_, PIP_ or UV_ unless they hold a word that
marks a secret or a URL (which can carry credentials): TOKEN, SECRET, PASSWORD, KEY, AUTH, URL,
INDEX, ... `test_env_allow` (the flag or the Action input) adds names (`NAME`, or `PREFIX*`); the
ones in NEVER can never be allowed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

ALLOWED_NAMES = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TERM",
        "TMPDIR", "TMP", "TEMP", "CI", "GITHUB_ACTIONS", "RUNNER_OS", "RUNNER_ARCH",
        "RUNNER_TEMP", "SOURCE_DATE_EPOCH", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
        "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CONFIG_DIRS",
        "XDG_DATA_DIRS", "XDG_RUNTIME_DIR", "LD_LIBRARY_PATH", "VIRTUAL_ENV",
    }
)  # fmt: skip
ALLOWED_PREFIXES = ("LC_", "PYTHON", "PYTEST_", "PIP_", "UV_")
SECRET_WORDS = (
    "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS", "KEY", "AUTH", "CREDENTIAL", "COOKIE",
    "SESSION", "PRIVATE", "URL", "INDEX", "PROXY",
)  # fmt: skip
NEVER_PREFIXES = ("INPUT_", "ACTIONS_")
NEVER_NAMES = frozenset({"GITHUB_TOKEN", "GH_TOKEN", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"})
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\*?$")


def never_allowed(name: str) -> bool:
    upper = name.upper().rstrip("*")
    return upper in NEVER_NAMES or upper.startswith(NEVER_PREFIXES) or name == "*"


def parse_allow(value: str | Iterable[str]) -> tuple[str, ...]:
    """Names from a comma/space separated string (or a list); ValueError names a bad one."""
    items = re.split(r"[,\s]+", value) if isinstance(value, str) else list(value)
    names = tuple(dict.fromkeys(x.strip() for x in items if x.strip()))
    for name in names:
        if not _NAME.match(name):
            raise ValueError(
                f"{name!r} is not a variable name (letters, digits, _; a trailing * for a prefix)"
            )
        if never_allowed(name):
            raise ValueError(
                f"{name} can never be given to the tests (it holds or may hold a secret)"
            )
    return names


def _secret_looking(name: str) -> bool:
    return any(word in name for word in SECRET_WORDS)


def is_allowed(name: str, extra: Iterable[str] = ()) -> bool:
    upper = name.upper()
    if never_allowed(name):
        return False
    for pattern in extra:
        if (pattern.endswith("*") and name.startswith(pattern[:-1])) or name == pattern:
            return True
    if upper in ALLOWED_NAMES:
        return True
    return upper.startswith(ALLOWED_PREFIXES) and not _secret_looking(upper)


def gate_environ(environ: Mapping[str, str], extra: Iterable[str] = ()) -> dict[str, str]:
    """The allowed part of `environ`."""
    allow = tuple(extra)
    return {name: value for name, value in environ.items() if is_allowed(name, allow)}
