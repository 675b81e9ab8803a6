"""What the tests and the setup command may see of the environment: an allow-list."""

from __future__ import annotations

import pytest

from autopack.core.gates.environment import gate_environ, is_allowed, parse_allow

ENVIRON = {
    "PATH": "/usr/bin",
    "HOME": "/home/u",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "CI": "true",
    "PYTHONPATH": "src",
    "PYTHONHASHSEED": "0",
    "PYTEST_ADDOPTS": "-q",
    "PIP_FIND_LINKS": "/wheels",
    "UV_CACHE_DIR": "/cache/uv",
    "INPUT_GITHUB_TOKEN": "ghs_secret",
    "INPUT_ANTHROPIC_API_KEY": "sk-ant-secret",
    "GITHUB_TOKEN": "ghs_secret",
    "ANTHROPIC_API_KEY": "sk-ant-secret",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc",
    "ACTIONS_RUNTIME_TOKEN": "rt",
    "AWS_SECRET_ACCESS_KEY": "aws",
    "PYTHON_KEYRING_PASSWORD": "pw",
    "PIP_INDEX_URL": "https://user:pw@index.example/simple",
    "UV_INDEX_URL": "https://user:pw@index.example/simple",
    "HTTPS_PROXY": "http://user:pw@proxy:3128",
    "MY_SERVICE_HOST": "db.local",
    "GITHUB_REPOSITORY": "acme/calc",
}


def test_only_the_allowed_names_reach_the_tests() -> None:
    assert gate_environ(ENVIRON) == {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "CI": "true",
        "PYTHONPATH": "src",
        "PYTHONHASHSEED": "0",
        "PYTEST_ADDOPTS": "-q",
        "PIP_FIND_LINKS": "/wheels",
        "UV_CACHE_DIR": "/cache/uv",
    }


def test_test_env_allow_adds_names_and_prefixes() -> None:
    extra = parse_allow("MY_SERVICE_HOST, PIP_INDEX_URL  HTTPS_*")
    assert extra == ("MY_SERVICE_HOST", "PIP_INDEX_URL", "HTTPS_*")
    seen = gate_environ(ENVIRON, extra)
    assert seen["MY_SERVICE_HOST"] == "db.local"
    assert "PIP_INDEX_URL" in seen and "HTTPS_PROXY" in seen
    assert "INPUT_GITHUB_TOKEN" not in seen and "GITHUB_TOKEN" not in seen
    assert parse_allow(["A", "A", " B "]) == ("A", "B")


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ("INPUT_GITHUB_TOKEN", "INPUT_GITHUB_TOKEN can never be given to the tests"),
        ("INPUT_*", "INPUT_* can never be given"),
        ("GITHUB_TOKEN", "GITHUB_TOKEN can never be given"),
        ("anthropic_api_key", "anthropic_api_key can never be given"),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "can never be given"),
        ("*", "'*' is not a variable name"),
        ("MY-VAR", "'MY-VAR' is not a variable name"),
        ("A*B", "'A*B' is not a variable name"),
    ],
)
def test_names_that_can_never_be_allowed_or_are_not_names(names: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("*", r"\*")):
        parse_allow(names)


def test_a_secret_is_refused_even_if_a_prefix_would_allow_it() -> None:
    assert not is_allowed("INPUT_GITHUB_TOKEN", ("INPUT",))
    assert not is_allowed("GITHUB_TOKEN", ("GITHUB_*",))
    assert is_allowed("GITHUB_REPOSITORY", ("GITHUB_*",))
