"""A maintainer's decision on a governance request in the Action: an approve/deny label on the PR (or
the issue before the PR exists), or a `/autopack approve <id>` / `/autopack deny <id>` comment there.

A decision names what it decides. A label names no request, so it counts only while exactly one is
pending; with more, it is refused (removed, and answered with every pending request and the comment
that decides each), never applied to one of them. A comment names its request (id or a 6+ character
prefix). Both are judged alike (who, when, at which head: core/governance/approval.py) and applied
through the one decision path, app/governor.apply_decision; then the run resumes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from autopack.action.events import BRANCH_PREFIX, DecideRequest
from autopack.action.session import Outcome, finish, post_tracking
from autopack.action.tracking import Tracking
from autopack.adapters.clock import SystemClock
from autopack.adapters.github_forge import GitHubForge
from autopack.adapters.github_push import ActionWorkspace
from autopack.app.governor import (
    Governor,
    apply_decision,
    load_policy,
    render_request_comment,
)
from autopack.core.checks import CheckRun, PullRequestRef
from autopack.core.governance.approval import LabelFact, Verdict, judge_approval
from autopack.core.governance.comment import render_pending
from autopack.core.governance.decide import find_request
from autopack.core.governance.requests import Decision, GovernanceRequest, RequestState
from autopack.core.spec import RunSpec
from autopack.errors import AutopackError, GovernanceError

if TYPE_CHECKING:
    from autopack.action.runner import ActionRunner

ISSUE_BRANCH = re.compile(r"^autopack/issue-(\d+)$")


class Refusal(Exception):
    """Why a decision is not applied, and the list of pending requests to show with it."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def home_of(number: int, head_ref: str) -> int:
    """Where the run's tracking comment lives: its issue (from an `autopack/issue-<n>` branch), else
    the PR itself (a spec-file run), else the issue that was labelled or commented on."""
    match = ISSUE_BRANCH.match(head_ref)
    if match:
        return int(match.group(1))
    return number


class _SavedFirst:
    """The forge apply_decision writes through: its request comment edits wait (`flush`) until
    the decision is saved in the signed state. A run cut off in between is then finished by a
    re-run; an edited comment first would make the label look older than the request."""

    def __init__(self, forge: GitHubForge) -> None:
        self.forge = forge
        self.comments: dict[str, str] = {}

    def upsert_comment(self, key: str, body: str) -> None:
        self.comments[key] = body

    def ensure_pull_request(
        self, head: str, base: str, title: str, body: str, draft: bool = True
    ) -> PullRequestRef:
        return self.forge.ensure_pull_request(head, base, title, body, draft)

    def publish_check_run(self, check: CheckRun) -> str:
        return self.forge.publish_check_run(check)

    def save_artifact(self, name: str, text: str) -> str:
        return self.forge.save_artifact(name, text)

    def flush(self) -> None:
        for key, body in self.comments.items():
            self.forge.upsert_comment(key, body)


class Decide:
    """One decision run: find the request, judge the label or comment, apply, resume."""

    def __init__(self, runner: ActionRunner, intent: DecideRequest) -> None:
        self.runner, self.intent = runner, intent
        self.forge, self.log, self.inputs = runner.forge, runner.log, runner.inputs

    def refuse(
        self, reason: str, key: str = "refused", detail: str = "", drop_label: bool = True
    ) -> int:
        """Answer (a keyed comment, edited on a repeat) and exit 0; a label that was judged and
        refused is removed (it decided nothing)."""
        intent, what = self.intent, "accept the label" if self.intent.comment is None else "decide"
        if intent.label and drop_label:
            self.forge.remove_label(intent.number, intent.label)
        message = f"Autopack did not {what}: {reason}."
        self.log.notice(message + (f"\n{detail}" if detail else ""))
        body = f"⛔ {message}" + (f"\n\n{detail}" if detail else "")
        self.forge.upsert_comment_on(intent.number, key, body)
        finish(self.runner.env, self.log, Outcome(conclusion="refused", messages=[message]))
        return 0

    def run(self) -> int:
        intent, forge = self.intent, self.forge
        head_ref = intent.head_ref
        if intent.is_pull and not head_ref:  # a comment event does not say the PR's branch
            head_ref = forge.pull(intent.number).head_ref
            if not head_ref.startswith(BRANCH_PREFIX):
                return self.runner.ignore(f"PR #{intent.number} is not an Autopack PR ({head_ref})")
        tracking = self.runner.load_tracking(home_of(intent.number, head_ref))
        pending = tracking.pending_requests() if tracking else []
        if tracking is not None and not pending and tracking.unapplied_decision() is not None:
            return self._finish_decided(tracking)
        done = self._decided_by_this(tracking)
        if done is not None:  # a re-run or a re-delivered event: it changes nothing
            return self.runner.ignore(
                f"request {done.id} is already {done.state.value} by {done.decided_by}, "
                f"by this {'label' if intent.comment is None else 'comment'}"
            )
        if tracking is None or tracking.state is None or not pending:
            reason = "there is no pending governance request on this run"
            return self.refuse(reason, drop_label=False)
        forge.target, forge.pull_number = tracking.issue_number, tracking.pr_number
        try:
            request = self._pick(tracking)
        except Refusal as refusal:
            return self.refuse(refusal.reason, detail=refusal.detail)
        requested = self._request_comment(tracking, request)
        if requested is None or not request.head_sha:
            reason = f"the comment of request {request.id} is not on #{intent.number}"
            return self.refuse(reason, drop_label=False)
        head, verdict = self._judge(tracking, request.head_sha, requested)
        if not verdict.allowed:
            return self.refuse(verdict.reason, f"refused-{request.id}")
        return self._apply(tracking, request, head, verdict.who)

    def _decided_by_this(self, tracking: Tracking | None) -> GovernanceRequest | None:
        """The request this label or comment already decided (same person, same decision, made
        before the decision was): a re-run of its run or the event delivered again."""
        intent = self.intent
        want = RequestState.approved if intent.approve else RequestState.denied
        requests = tracking.state.requests if tracking and tracking.state else []
        decided = [r for r in requests if r.state is want and r.decided_at is not None]
        if intent.comment is not None and tracking and tracking.state:
            try:  # the request the comment names, as a decision would find it
                named = find_request(tracking.state, intent.request_id or "")
            except GovernanceError:
                return None
            decided = [r for r in decided if r is named]
        if not decided:
            return None
        if intent.comment is not None:
            actor, at = intent.comment.author, intent.comment.created_at
        else:
            event = self.forge.last_labeled(intent.number, intent.label)
            if event is None:
                return None
            actor, at = event.actor, event.created_at
        return next(
            (r for r in decided if r.decided_by == actor and r.decided_at and at <= r.decided_at),
            None,
        )

    def _pick(self, tracking: Tracking) -> GovernanceRequest:
        assert tracking.state is not None
        pending = tracking.pending_requests()
        listing = render_pending(pending, self.inputs.decision_labels)
        intent = self.intent
        if intent.comment is None:
            if len(pending) > 1:
                raise Refusal(
                    f"{len(pending)} governance requests are pending and a label cannot say "
                    "which one it decides; decide each with a comment",
                    listing,
                )
            return pending[0]
        if not intent.request_id:
            raise Refusal("the comment names no request; give its id", listing)
        try:
            request = find_request(tracking.state, intent.request_id)
        except GovernanceError as exc:
            raise Refusal(str(exc), listing) from None
        if request.state is not RequestState.pending:
            by = f" by {request.decided_by}" if request.decided_by else ""
            raise Refusal(f"request {request.id} is already {request.state.value}{by}", listing)
        return request

    def _request_comment(self, tracking: Tracking, request: GovernanceRequest) -> datetime | None:
        """When the request comment was last posted (its updated_at): on the PR or issue where
        the decision was made, else on the run's other one."""
        places = [self.intent.number, tracking.pr_number, tracking.issue_number]
        for number in dict.fromkeys(n for n in places if n is not None):
            found = self.forge.find_comment(number, request.id)
            if found is not None:
                return found.updated_at
        return None

    def _judge(
        self, tracking: Tracking, request_head: str, requested_at: datetime
    ) -> tuple[str, Verdict]:
        """The PR head now, and whether the label or comment counts (who, when, at which head)."""
        forge, intent = self.forge, self.intent
        if intent.is_pull:
            head = forge.pull(intent.number).head_sha
        else:
            head = forge.branch_sha(tracking.branch) or forge.branch_sha(tracking.base_branch) or ""
        if intent.comment is not None:
            c = intent.comment
            fact: LabelFact | None = LabelFact(
                actor=c.author, actor_type=c.author_type, created_at=c.created_at
            )
        else:
            event = forge.last_labeled(intent.number, intent.label)
            fact = (
                None
                if event is None
                else LabelFact(
                    actor=event.actor, actor_type=event.actor_type, created_at=event.created_at
                )
            )
        role = forge.role_name(fact.actor) if fact else "none"
        verdict = judge_approval(
            fact,
            intent.sender,
            intent.label or intent.what,
            role,
            requested_at=requested_at,
            request_head_sha=request_head,
            pr_head_sha=head,
            allowed_bots=self.inputs.allowed_bots,
            what=intent.what,
        )
        return head, verdict

    def _apply(self, tracking: Tracking, request: GovernanceRequest, head: str, who: str) -> int:
        intent, forge, runner = self.intent, self.forge, self.runner
        assert tracking.state is not None
        runner.home = intent.number
        self.log.group(f"Autopack: {intent.what} on request {request.id} by {who}")
        if intent.comment is not None:
            c = intent.comment
            runner.react(c.id, c.review, "eyes", intent.number, c.review_body)
        ws = ActionWorkspace(runner.env.workspace, self.inputs.github_token)
        if ws.adopt_remote_branch(tracking.branch) and ws.head_sha() != head:
            return self._moved(tracking, request, ws)
        decision = Decision.approve if intent.approve else Decision.deny
        policy = load_policy(ws, tracking.spec or RunSpec(goal="(resume)"))
        saved_first, key = _SavedFirst(forge), self.inputs.signing_key
        try:
            apply_decision(
                tracking.state,
                request.id,
                decision,
                who,
                head,
                clock=SystemClock(),
                audit=tracking,
                forge=saved_first,
                ttl=timedelta(hours=policy.request_ttl_hours),
                labels=self.inputs.decision_labels,
            )
        except GovernanceError as exc:
            post_tracking(forge, tracking, self.inputs.decision_labels, key)  # expiry, audit
            saved_first.flush()
            return self.refuse(str(exc), f"refused-{request.id}")
        # The decision is durable (in the signed state) before the request comment says it and
        # the label is consumed: a run killed from here on is finished by a re-run, never asks
        # for a second approval.
        post_tracking(forge, tracking, self.inputs.decision_labels, key)
        saved_first.flush()
        if intent.label:  # consumed: a later request needs a new one
            forge.remove_label(intent.number, intent.label)
        self.log.info(f"request {request.id}: {decision.value}d by {who}; resuming")
        return self._resume(tracking, ws)

    def _moved(self, tracking: Tracking, request: GovernanceRequest, ws: ActionWorkspace) -> int:
        """The branch moved between the judge and the checkout (a push landed in between):
        refused as for a moved head, and the request re-posted at the new head (where a fresh
        decision can approve it)."""
        assert tracking.state is not None
        fetched, was = ws.head_sha(), request.head_sha or "(none)"
        labels, run_id = self.inputs.decision_labels, tracking.run_id
        policy = load_policy(ws, tracking.spec or RunSpec(goal="(resume)"))
        gov = Governor(policy, SystemClock(), self.forge, tracking, run_id, self.log.info, labels)
        gov.publish(tracking.state, fetched, ws)
        post_tracking(self.forge, tracking, labels, self.inputs.signing_key)
        reason = f"the PR head moved to {fetched[:10]} since the request was made on {was[:10]}"
        return self.refuse(reason, f"refused-{request.id}")

    def _resume(self, tracking: Tracking, ws: ActionWorkspace) -> int:
        if tracking.spec is None:
            raise AutopackError("the tracking comment has no run spec; label the issue again")
        runner, state = self.runner, tracking.state
        finalizer = runner.finalizer(ws)
        # A follow-up that ended (committed, failed, blocked, denied) answered its comment: the
        # approval run keeps it as it is (a failed one is not rebuilt unasked). One a cancel cut
        # short is not final: it is built again like a planned phase.
        ended = {p.id for p in state.phases if p.status.final} if state else set()
        keep = tuple(
            f.phase_id
            for f in tracking.followups
            if f.phase_id in ended and f.status != "cancelled"
        )
        return runner.execute(
            tracking, ws, runner.make_model(), tracking.spec, state, finalizer, keep=keep
        )

    def _finish_decided(self, tracking: Tracking) -> int:
        """A decision recorded by an earlier run that stopped before applying it: finish it."""
        request = tracking.unapplied_decision()
        assert request is not None
        self.forge.target, self.forge.pull_number = tracking.issue_number, tracking.pr_number
        self.runner.home = tracking.issue_number or tracking.pr_number
        self.log.group(f"Autopack: finishing request {request.id} ({request.state.value} earlier)")
        labels = self.inputs.decision_labels  # the run that decided may not have said it yet
        self.forge.upsert_comment(request.id, render_request_comment(request, labels))
        ws = ActionWorkspace(self.runner.env.workspace, self.inputs.github_token)
        ws.adopt_remote_branch(tracking.branch)
        return self._resume(tracking, ws)
