"""A maintainer's `/autopack <instruction>` comment on an Autopack pull request (in the conversation,
or on a line of a file in review) becomes ONE follow-up phase on the PR's branch.

Who may: the commenter needs write, maintain or admin and must be a human (bots only when listed
in allowed_bots); anyone else gets a short reply and no model call. Then: 👀 on the comment at once;
the phase (core/followup.py: its goal is the fenced instruction, no deliverables) is added to the
run's spec and run alone on top of the branch through the same Session and Executor as planned
phases (path policy, governance holds, gates, repair rounds, telemetry, cost cap), with the PR's
diff and the anchored file in its prompt. Its commit carries the trailer `Autopack-Phase:
followup-<comment id>`; its check run is `Autopack / followup-<comment id>`. The tracking comment
lists it under "Follow-ups" and the PR body has its row. `settle_followups` answers: 🚀 and a reply
with the commit and cost on success, a reply naming what blocked it otherwise.

Idempotent per comment: the follow-up's state lives in the tracking comment's signed state block
(and its commit in the branch's trailers), so a re-delivered event makes no second commit, reaction
or reply; replies are one keyed comment per follow-up, edited in place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autopack.action.decide import home_of
from autopack.action.events import BRANCH_PREFIX, FollowUpRequest
from autopack.action.session import Outcome, post_tracking
from autopack.action.tracking import FollowUpRecord, Tracking
from autopack.adapters.github_push import ActionWorkspace
from autopack.core.followup import (
    Anchor,
    followup_context,
    followup_phase,
    followup_phase_id,
    inert,
)
from autopack.core.governance.approval import Verdict, judge_person
from autopack.core.governance.requests import RequestState
from autopack.core.paths import check_repo_path
from autopack.core.render.prompts import render
from autopack.core.spec import RunSpec
from autopack.core.state import PhaseRecord
from autopack.errors import PathPolicyError, WorkspaceError

if TYPE_CHECKING:
    from autopack.action.runner import ActionRunner

# A follow-up in one of these states is done with: a re-delivered comment changes nothing.
FINAL = frozenset({"committed", "failed", "blocked", "awaiting_approval", "denied"})
CONCLUSIONS = {"committed": "success", "awaiting_approval": "action_required", "denied": "denied"}


class FollowUp:
    def __init__(self, runner: ActionRunner, intent: FollowUpRequest) -> None:
        self.runner, self.intent = runner, intent
        self.forge, self.log = runner.forge, runner.log
        self.key = followup_phase_id(intent.comment.key)  # phase id and reply marker

    def refuse(self, reason: str) -> int:
        verdict = Verdict(allowed=False, reason=reason)
        return self.runner.refuse(self.intent.number, self.key, verdict, "act on this comment")

    def run(self) -> int:
        intent, forge, runner, c = self.intent, self.forge, self.runner, self.intent.comment
        head_ref = intent.head_ref or forge.pull(intent.number).head_ref
        if not head_ref.startswith(BRANCH_PREFIX):
            return runner.ignore(f"PR #{intent.number} is not an Autopack PR (branch {head_ref})")
        role = forge.role_name(c.author)
        verdict = judge_person(c.author, c.author_type, role, runner.inputs.allowed_bots)
        if not verdict.allowed:
            return self.refuse(verdict.reason)
        tracking = runner.load_tracking(home_of(intent.number, head_ref))
        if tracking is None or tracking.spec is None or tracking.state is None:
            return self.refuse("this pull request has no Autopack run state to follow up on")
        known = tracking.followup(self.key)
        if known is not None and _done(tracking, known):
            return runner.ignore(f"the follow-up of comment {c.id} is already {known.status}")
        runner.home = intent.number
        forge.target, forge.pull_number = tracking.issue_number, tracking.pr_number
        runner.react(c.id, c.review, "eyes", intent.number, c.review_body)
        self.log.group(f"Autopack: follow-up of comment {c.id} by {c.author}")
        if known is None:
            tracking.followups.append(self._record())
        tracking.spec = self._spec(tracking.spec)
        ws = ActionWorkspace(runner.env.workspace, runner.inputs.github_token)
        ws.adopt_remote_branch(tracking.branch)
        finalizer = runner.finalizer(ws)  # a setup command runs before any model call
        context = {self.key: self._context(ws, tracking)}
        spec, state, only = tracking.spec, tracking.state, (self.key,)
        return runner.execute(
            tracking, ws, runner.make_model(), spec, state, finalizer, only, context
        )

    def _record(self) -> FollowUpRecord:
        c = self.intent.comment
        return FollowUpRecord(
            phase_id=self.key,
            comment_id=c.id,
            review=c.review,
            review_body=c.review_body,
            number=self.intent.number,
            url=c.url,
            author=c.author,
            instruction=inert(self.intent.instruction),
            path=self._path(),
            line=c.line,
        )

    def _spec(self, spec: RunSpec) -> RunSpec:
        """The run's spec with this follow-up's phase at the end (once)."""
        if any(p.id == self.key for p in spec.phases):
            return spec
        phase = followup_phase(self.key, self.intent.instruction, self.intent.comment.author)
        return spec.model_copy(update={"phases": (*spec.phases, phase)})

    def _path(self) -> str | None:
        path = self.intent.comment.path
        if not path:
            return None
        try:
            return check_repo_path(path)
        except PathPolicyError:
            return None

    def _context(self, ws: ActionWorkspace, tracking: Tracking) -> str:
        """The PR's diff against its base and, for a review comment, the file it is on."""
        assert tracking.state is not None
        base = tracking.state.base_sha
        try:
            diff = ws.diff_since(base) if base else None
        except WorkspaceError as exc:
            self.log.warning(f"no PR diff for the follow-up's prompt: {exc}")
            diff = None
        path, c = self._path(), self.intent.comment
        if path is None:
            return followup_context(diff, None, None)
        try:
            data = ws.read(path)
        except PathPolicyError:
            data = None
        return followup_context(diff, Anchor(path=path, line=c.line, diff_hunk=c.diff_hunk), data)


def settle_followups(
    runner: ActionRunner, tracking: Tracking, outcome: Outcome, focus: tuple[str, ...]
) -> None:
    """Bring each follow-up up to date with its phase and answer the ones whose state is new to
    their reply; the follow-up run's conclusion (`focus`) is its phase's."""
    state = tracking.state
    if state is None or not tracking.followups:
        return
    phases = {p.id: p for p in state.phases}
    for f in tracking.followups:
        record = phases.get(f.phase_id)
        if record is None:
            continue
        f.status, f.commit_sha, f.reason = record.status.value, record.commit_sha, record.reason
        f.cost_usd = max(f.cost_usd, record.cost_usd)
        said = f.status
        stopped = outcome.conclusion in ("error", "cancelled")
        if f.phase_id in outcome.cut:  # not final: a re-run builds it again
            f.status = said = "cancelled"
        elif f.phase_id in focus and stopped and not _done(tracking, f):
            said, f.reason = "error", (outcome.messages or ["the run stopped"])[0]
        if f.phase_id in focus and not stopped:  # a run that stopped says so, whatever its phase
            outcome.conclusion = CONCLUSIONS.get(said, "failure")
        if said == f.reported or (said not in FINAL and said not in ("error", "cancelled")):
            continue
        _reply(runner, tracking, f, record, said)
        if said == "committed":
            runner.react(f.comment_id, f.review, "rocket", f.number, f.review_body)
        f.reported = said
    inputs = runner.inputs
    post_tracking(runner.forge, tracking, inputs.decision_labels, inputs.signing_key)


def _done(tracking: Tracking, f: FollowUpRecord) -> bool:
    """Whether a re-delivered comment (a re-run) has nothing left to do for `f`: its state is
    final, and a committed one has its check run (a job that died between the push and the check
    run leaves it to the re-run)."""
    if f.status == "committed":
        return f.phase_id in tracking.check_urls
    return f.status in FINAL


def _reply(
    runner: ActionRunner, tracking: Tracking, f: FollowUpRecord, record: PhaseRecord, said: str
) -> None:
    assert tracking.state is not None
    env, sha = runner.env, f.commit_sha or ""
    requests = [
        r
        for r in tracking.state.requests
        if r.phase_id == f.phase_id and r.state is RequestState.pending
    ]
    body = render(
        "followup_reply.md.j2",
        status=said,
        commit_link=f"[`{sha[:10]}`]({env.server_url}/{env.repository}/commit/{sha})",
        branch=tracking.branch,
        cost_usd=f.cost_usd,
        check_url=tracking.check_urls.get(f.phase_id, ""),
        reason=inert(f.reason, 600) or said,
        requests=requests,
        command=runner.inputs.command_prefix,
        patch=(record.patch_file or "").rsplit("/", 1)[-1],
        url=f.url,
        author=f.author,
    )
    runner.forge.upsert_comment_on(f.number, f.phase_id, body)
