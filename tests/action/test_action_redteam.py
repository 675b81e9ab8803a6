"""Red-team findings on the Action's run lifecycle: each test shows a bug (it fails on the code it
was written against). Same world as test_action_e2e.py: the local GitHub server through PyGithub,
the local Messages API server, real git with a bare origin and a fresh checkout per run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import git
import pytest
from action_world import API_KEY, World, make_world, spec_body

from autopack.action.tracking import Tracking, decode_state, state_key
from autopack.demo import scenario
from support.messages_server import Reply

KEY = state_key(API_KEY)


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[World]:
    yield from make_world(tmp_path, monkeypatch, capsys)


def _tracking(world: World, number: int = 1) -> Tracking:
    [t] = [t for c in world.state.comments_on(number) if (t := decode_state(c["body"], KEY))]
    return t


def test_an_approval_cut_off_before_its_state_is_saved_is_finished_by_the_rerun(
    world: World,
) -> None:
    """A maintainer's approve label: apply_decision edits the request comment ("approved") and
    only then is the decision saved in the tracking comment. The job dies between the two (here
    GitHub refuses the tracking edit; a kill or timeout there is the same). "Re-run jobs" must
    finish the approval; instead the request comment's new updated_at makes the maintainer's
    label "older than the request it would decide": it is refused and removed, while the request
    comment already says "approved". The approval is lost and a fresh label is needed."""
    world.defaults["test_command"] = "none"
    n = world.state.create_issue("Mul and owners", spec_body("multiply", "owners"))
    first = world.label_issue(n, "autopack", "maint")
    assert first.outputs["conclusion"] == "action_required", first.stdout
    [pr] = world.state.pulls()
    number = pr["number"]
    [tracking] = [c for c in world.state.comments_on(n) if "autopack:tracking" in c["body"]]
    world.state.fail_once("PATCH", rf"/issues/comments/{tracking['id']}$", status=422)

    died = world.label_pull(number, "autopack:approve", "maint")
    assert died.code == 1, died.stdout
    assert "autopack(owners): Add CODEOWNERS" not in world.branch_log("autopack/issue-1")

    again = world.refire()
    assert "older than the request" not in again.stdout, again.stdout
    assert again.outputs["conclusion"] == "success", again.stdout
    assert "autopack(owners): Add CODEOWNERS" in world.branch_log("autopack/issue-1")


def _opened(world: World) -> int:
    """An issue run to a ready PR (one docs phase, no test gate); returns the PR number."""
    world.defaults["test_command"] = "none"
    n = world.state.create_issue("Docs", spec_body("docs"))
    first = world.label_issue(n, "autopack", "maint")
    assert first.outputs["conclusion"] == "success", first.stdout
    [pr] = world.state.pulls()
    return int(pr["number"])


def _command(world: World, body: str) -> dict[str, object]:
    return next(c for c in world.state.comments.values() if c["body"] == body)


def test_a_follow_up_committed_before_its_check_run_failed_gets_it_on_the_rerun(
    world: World,
) -> None:
    """The follow-up's commit is pushed, then its check run cannot be published (the job dies
    there; here GitHub refuses it once). README: "a phase committed before a job died gets its
    missing check run on the re-run". For a follow-up the run instead reports `success` (exit 0)
    although it stopped with an error, and the re-run is ignored ("already committed"), so the
    follow-up's check run is never published."""
    pr = _opened(world)
    world.followup_replies.append(Reply(text=scenario.ndjson(scenario.RESPONSES["multiply"][0][0])))
    world.state.fail_once("POST", r"/check-runs$", status=422)
    died = world.comment(pr, "/autopack add mul(a, b)", "maint")
    cid = _command(world, "/autopack add mul(a, b)")["id"]
    assert f"autopack(followup-{cid}): Follow-up asked by maint" in world.branch_log(
        "autopack/issue-1"
    )
    assert "Autopack stopped" in died.stdout
    assert died.outputs["conclusion"] != "success", died.stdout  # it stopped on an error

    world.refire()
    assert f"Autopack / followup-{cid}" in world.checks()


def test_a_cancelled_follow_up_is_built_again_by_the_rerun(world: World) -> None:
    """ "Cancel workflow" (SIGTERM) while the follow-up's model stream is under way. README: the
    cut phase is failed, the run ends `cancelled` with 143, and "a re-run resumes like any other:
    ... the cut phase is built again". For a follow-up, settle_followups turns the cancelled
    outcome into `failure` (exit 1, not 143), answers the comment "❌ not committed (failed):
    cancelled ... a re-run builds it again", and then the re-run is ignored because `failed` is a
    final follow-up state: the follow-up is lost."""
    import os
    import signal

    from action_world import responder

    pr = _opened(world)
    mul = Reply(text=scenario.ndjson(scenario.RESPONSES["multiply"][0][0]))
    cut: list[bool] = []

    def cancel_first_followup(rec):  # type: ignore[no-untyped-def]
        if "# Phase `followup-" in rec.message_text(0) and not cut:
            cut.append(True)
            os.kill(os.getpid(), signal.SIGTERM)  # the job is cancelled mid-stream
            return Reply(text=mul.text, chunk_chars=10, stall_after=40, stall_s=3)
        return responder(rec, [mul])

    world.model.responder = cancel_first_followup
    cancelled = world.comment(pr, "/autopack add mul(a, b)", "maint")
    cid = _command(world, "/autopack add mul(a, b)")["id"]
    assert cut and "cancelled (SIGTERM)" in cancelled.stdout, cancelled.stdout
    assert cancelled.outputs["conclusion"] == "cancelled", cancelled.stdout
    assert cancelled.code == 143

    again = world.refire()
    assert "already failed" not in again.stdout, again.stdout
    assert f"autopack(followup-{cid}): Follow-up asked by maint" in world.branch_log(
        "autopack/issue-1"
    )


BREAKING_OPS = [
    {"op": "edit", "path": "src/calc/ops.py", "old": "return a + b", "new": "return a + b + 1"},
    {"op": "done", "summary": "Made add generous."},
]
ENV_OPS = [
    {"op": "write", "path": ".env.example", "content": "CALC_PRECISION=4\n"},
    {"op": "done", "summary": "Documented the precision setting."},
]


def test_approving_a_held_follow_up_does_not_rebuild_an_earlier_failed_one(world: World) -> None:
    """The README's own conversation: `/autopack make add return a + b + 1` fails its tests ("❌
    not committed"), `/autopack document ... in .env.example` is held, an admin approves it. The
    approval run resumes the whole spec (Decide._resume passes no `only`), so the earlier failed
    follow-up, a final state its reply already answered, is built again: a model call (and cost)
    nobody asked for, and possibly a commit of a change the maintainer gave up on."""
    world.defaults.pop("test_command", None)  # the test gate is on: the first follow-up fails
    n = world.state.create_issue("Docs", spec_body("docs"))
    assert world.label_issue(n, "autopack", "maint").outputs["conclusion"] == "success"
    [pr] = world.state.pulls()
    number = int(pr["number"])
    world.followup_replies += [
        Reply(text=scenario.ndjson(BREAKING_OPS)),
        Reply(text=scenario.ndjson([{"op": "done", "summary": "?"}], 3)),
    ]
    failed = world.comment(number, "/autopack make add return a + b + 1", "maint")
    assert failed.outputs["conclusion"] == "failure", failed.stdout
    world.followup_replies.append(Reply(text=scenario.ndjson(ENV_OPS)))
    held = world.comment(number, "/autopack document the precision in .env.example", "maint")
    assert held.outputs["conclusion"] == "action_required", held.stdout
    [request] = [r for r in _tracking(world).state.requests]  # type: ignore[union-attr]
    broken = _command(world, "/autopack make add return a + b + 1")["id"]
    asked = len(world.model.message_requests)

    ok = world.comment(number, f"/autopack approve {request.id}", "admin")

    assert f"followup-{broken}: building" not in ok.stdout, ok.stdout
    assert len(world.model.message_requests) == asked  # the approved ops are re-applied only
    assert ok.outputs["conclusion"] == "success", ok.stdout


def test_a_run_that_stopped_on_an_error_has_the_conclusion_error(world: World) -> None:
    """The session stops on an error (GitHub refuses a check run): the tracking comment says
    `conclusion: **error**`, the log "Autopack stopped", and the README's outputs table says
    `error (1; the run stopped)`. The `conclusion` output says `failure` ("a phase failed or was
    blocked") instead: Session._ending sets t.conclusion but not outcome.conclusion."""
    world.defaults["test_command"] = "none"
    n = world.state.create_issue("Add mul", spec_body("multiply"))
    world.state.fail_once("POST", r"/check-runs$", status=422)
    died = world.label_issue(n, "autopack", "maint")
    assert "Autopack stopped" in died.stdout
    assert _tracking(world, n).conclusion == "error"
    assert died.outputs["conclusion"] == "error", died.stdout


def test_a_redelivered_approval_that_succeeded_changes_nothing(world: World) -> None:
    """ "Re-run jobs" on an approval run that succeeded (or GitHub delivering the label event
    twice). README: "A second identical approval changes nothing" and re-runs make "no duplicate
    comment". The re-run instead posts a new "⛔ Autopack did not accept the label: there is no
    pending governance request on this run" comment on the PR and ends `refused`, which reads as
    if the maintainer's approval had been rejected."""
    world.defaults["test_command"] = "none"
    n = world.state.create_issue("Mul and owners", spec_body("multiply", "owners"))
    world.label_issue(n, "autopack", "maint")
    [pr] = world.state.pulls()
    ok = world.label_pull(pr["number"], "autopack:approve", "maint")
    assert ok.outputs["conclusion"] == "success", ok.stdout
    before = sorted(world.state.comments)

    again = world.refire()

    assert sorted(world.state.comments) == before, [
        world.state.comments[c]["body"] for c in world.state.comments if c not in before
    ]
    assert again.outputs["conclusion"] != "refused", again.stdout


def test_an_approval_is_not_applied_on_a_head_pushed_after_it_was_judged(world: World) -> None:
    """The approval run reads the PR head from the API (it equals the request's head: the label
    counts), then fetches the branch. A maintainer's push that lands between the two is what the
    run checks out: the held ops are applied and committed on top of a commit the approver never
    saw, although an approval "is refused when ... the branch head moved since the request was
    posted". Decide._apply never compares the fetched head with the judged one."""
    from autopack.adapters.github_push import ActionWorkspace

    world.defaults["test_command"] = "none"
    n = world.state.create_issue("Mul and owners", spec_body("multiply", "owners"))
    world.label_issue(n, "autopack", "maint")
    [pr] = world.state.pulls()
    pushed: list[str] = []
    adopt = ActionWorkspace.adopt_remote_branch

    def racing_push(self: ActionWorkspace, branch: str) -> bool:
        if not pushed:  # the approval run was judged; now the push lands
            pushed.append(world.human_commit(branch))
        return adopt(self, branch)

    world.monkeypatch.setattr(ActionWorkspace, "adopt_remote_branch", racing_push)
    world.label_pull(pr["number"], "autopack:approve", "maint")

    assert pushed
    on_top = git.Repo(world.origin).commit("autopack/issue-1")
    assert not (
        on_top.message.startswith("autopack(owners)") and on_top.parents[0].hexsha == pushed[0]
    ), "the held ops were committed on a head the approval never saw"
