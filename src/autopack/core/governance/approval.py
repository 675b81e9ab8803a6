"""Who may start a run or approve a request (pure; DESIGN.md "Security rules", never configurable
off). The facts come from GitHub (the last `labeled` event of the label, the labeller's role, the PR
head); this module only judges them, giving the reason when it refuses."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

WRITE_ROLES = frozenset({"admin", "maintain", "write"})


class Verdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    allowed: bool
    who: str = ""
    reason: str = ""


class LabelFact(BaseModel):
    """The last `labeled` event of a label (from the issue events API), or a command comment: who
    acted, and when."""

    model_config = ConfigDict(frozen=True)

    actor: str
    actor_type: str = "User"
    created_at: datetime


def is_bot(login: str, account_type: str) -> bool:
    return account_type.lower() == "bot" or login.lower().endswith("[bot]")


def _allowed_bot(login: str, allowed_bots: tuple[str, ...]) -> bool:
    names = {b.lower().removesuffix("[bot]") for b in allowed_bots}
    return login.lower().removesuffix("[bot]") in names


def judge_person(
    login: str, account_type: str, role: str, allowed_bots: tuple[str, ...] = ()
) -> Verdict:
    """A human with write, maintain or admin; a bot only if listed in allowed_bots (and it still
    needs the role)."""
    if is_bot(login, account_type) and not _allowed_bot(login, allowed_bots):
        return Verdict(allowed=False, who=login, reason=f"{login} is a bot not in allowed_bots")
    if role not in WRITE_ROLES:
        return Verdict(
            allowed=False,
            who=login,
            reason=f"{login} has the role {role!r}; write, maintain or admin is needed",
        )
    return Verdict(allowed=True, who=login)


def judge_label(
    fact: LabelFact | None, sender: str, label: str, role: str, allowed_bots: tuple[str, ...] = ()
) -> Verdict:
    """The labeller of a trigger label: the actor of its LAST `labeled` event, who must be the event's
    sender and a person who may act."""
    if fact is None:
        return Verdict(allowed=False, who=sender, reason=f"no `labeled` event found for {label!r}")
    if fact.actor != sender:
        return Verdict(
            allowed=False,
            who=fact.actor,
            reason=f"the last {label!r} label was added by {fact.actor}, not by {sender}",
        )
    return judge_person(fact.actor, fact.actor_type, role, allowed_bots)


def judge_approval(
    fact: LabelFact | None,
    sender: str,
    label: str,
    role: str,
    *,
    requested_at: datetime,
    request_head_sha: str,
    pr_head_sha: str,
    allowed_bots: tuple[str, ...] = (),
    what: str | None = None,
) -> Verdict:
    """An approve/deny label counts only if its last `labeled` event was made by such a person, after
    the request comment, while the PR head is the SHA recorded in the request. A command comment
    (`/autopack approve <id>`) is judged the same way, its own record as the fact; `what` names it
    in the reason."""
    verdict = judge_label(fact, sender, label, role, allowed_bots)
    if not verdict.allowed or fact is None:
        return verdict
    if fact.created_at <= requested_at:
        return Verdict(
            allowed=False,
            who=fact.actor,
            reason=f"{what or f'the {label!r} label'} is older than the request it would decide",
        )
    if pr_head_sha != request_head_sha:
        return Verdict(
            allowed=False,
            who=fact.actor,
            reason=(
                f"the PR head moved to {pr_head_sha[:10]} since the request was made on "
                f"{request_head_sha[:10]}"
            ),
        )
    return verdict
