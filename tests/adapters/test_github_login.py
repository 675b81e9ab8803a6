"""The token's login (GET /user): an Actions or App token's expected 403 is silent; real failures
and other requests' refusals are still visible. PyGithub logs its retry decisions to the `github`
logger (INFO, to stderr through its own handler), so the tests read that logger's records."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from autopack.adapters.github_client import GitHubClient
from autopack.errors import ForgeError
from support.github_server import GitHubServer, GitHubState

TOKEN = "ghs_login_token"


@pytest.fixture
def gh(tmp_path: Path) -> Iterator[GitHubServer]:
    state = GitHubState(owner="acme", name="calc", origin=tmp_path / "origin.git", token=TOKEN)
    with GitHubServer(state) as server:
        yield server


def client(gh: GitHubServer, token: str = TOKEN) -> GitHubClient:
    # throttle=True: PyGithub's GithubRetry is in place, as in a real Action run (it is what
    # logs "Request GET ... failed with 403")
    return GitHubClient("acme/calc", token, api_url=gh.base_url, throttle=True, retry_delay=0)


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("github")]


def test_the_expected_403_on_user_is_not_logged(
    gh: GitHubServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="github"):
        assert client(gh).login is None
    assert [r.path for r in gh.state.requests] == ["/api/v3/user"]  # it was asked, and refused
    assert not [line for line in lines(caplog) if "/user" in line], lines(caplog)


def test_a_403_on_another_request_is_still_logged(
    gh: GitHubServer, caplog: pytest.LogCaptureFixture
) -> None:
    c = client(gh)
    with caplog.at_level(logging.DEBUG, logger="github"):
        assert c.login is None
        gh.state.fail_once("GET", r"/repos/acme/calc$", status=403)
        with pytest.raises(ForgeError, match="403"):
            _ = c.default_branch
    assert any(
        line.startswith("Request GET") and "/repos/acme/calc failed with 403" in line
        for line in lines(caplog)
    ), lines(caplog)
    # the filter is gone once the login is read: a later 403 on /user would be logged too
    assert not logging.getLogger("github.GithubRetry").filters


def test_a_real_failure_reading_the_user_is_an_error(gh: GitHubServer) -> None:
    with pytest.raises(ForgeError, match="read the token's user: 401 Bad credentials"):
        _ = client(gh, token="ghs_wrong").login


def test_a_readable_user_is_the_login(gh: GitHubServer) -> None:
    gh.state.user_readable = True
    assert client(gh).login == "github-actions[bot]"
