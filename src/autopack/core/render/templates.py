"""The jinja2 templates of every prompt, report and comment Autopack writes, as code: rendering
stays pure (no package data to read at run time). `render.prompts.render(name, ...)` uses them."""

from __future__ import annotations

TEMPLATES: dict[str, str] = {}

TEMPLATES["check_run.md.j2"] = r"""### {{ phase.id }}: {{ phase.title }}

Status: **{{ record.status.value }}**{% if record.reason %} ({{ record.reason }}){% endif %}

{% if decision and decision.gates %}
| gate | result | reason |
|---|---|---|
{% for g in decision.gates %}| {{ g.gate }} | {{ g.status.value }} | {{ g.reason | replace("|", "\\|") | replace("\n", " ") }} |
{% endfor %}{% endif %}
{% if decision and (decision.cost.suite_runs or decision.cost.baseline_cache) %}
Test gates: {{ decision.cost.describe() }}.
{% endif %}

| op | path | result |
|---|---|---|
{% for r in record.ops[:200] %}| {{ r.id }} {{ r.op }} | {{ r.path or "" }} | {{ r.status.value }}{% if r.reason %}: {{ r.reason | replace("|", "\\|") | replace("\n", " ") }}{% endif %} |
{% endfor %}{% if record.ops | length > 200 %}| ... | {{ record.ops | length - 200 }} more | |
{% endif %}
Requests: {{ record.requests }}, output tokens: {{ record.usage.output_tokens }}, cost: ${{ "%.4f" | format(record.cost_usd) }}
"""

TEMPLATES["check_run_file.md.j2"] = r"""# {{ check.name }} ({{ check.conclusion or check.status }})

## {{ check.title }}

{{ check.summary }}
{% if check.text %}
{{ check.text }}
{% endif %}{% if check.annotations %}
## Annotations
{% for a in check.annotations %}- {{ a.annotation_level }} `{{ a.path }}:{{ a.start_line }}`: {{ a.message }}
{% endfor %}{% endif %}
"""

TEMPLATES[
    "continue.md.j2"
] = r"""Your output was cut off after operation id {{ last_id }}. Continue from operation id {{ last_id + 1 }}: do not repeat earlier operations, and keep the same format (NDJSON only). End with `done`.
"""

TEMPLATES[
    "gate_repair.md.j2"
] = r"""Your operations up to id {{ last_id }} were applied and written to the working tree, but the phase's gates blocked it:
{% for g in decision.gates if g.status.value == "block" %}- {{ g.gate }}: {{ g.reason }}
{% endfor %}{% if decision.annotations %}
Where:
{% for a in decision.annotations[:20] %}- `{{ a.path }}:{{ a.start_line }}`{% if a.title %} {{ a.title }}{% endif %}: {{ a.message }}
{% endfor %}{% endif %}{% if files %}
Current contents of the files involved:
{% for f in files %}
<file path="{{ f.path }}">
{{ f.text }}
</file>
{% endfor %}{% endif %}
Fix these problems. The files now hold the result of your operations so far: base every `edit` on their current contents. Continue from operation id {{ last_id + 1 }} with only the operations that fix the problems, then a `manifest` if you defined or changed symbols, then `done`.
"""

TEMPLATES[
    "governance_comment.md.j2"
] = r"""<!-- autopack:governance id={{ request.id }} head={{ request.head_sha or "none" }} hash={{ request.hash }} -->
## 🔒 Autopack governance request `{{ request.id }}`

Phase **`{{ request.phase_id }}`** wants to change protected paths. Nothing was written; the phase is held until a maintainer decides.

| | |
|---|---|
| State | **{{ request.state.value }}**{% if request.decided_by %} by {{ request.decided_by }}{% endif %}{% if request.decided_at %} at {{ request.decided_at.strftime("%Y-%m-%d %H:%M:%S UTC") }}{% endif %}{% if request.reason %} ({{ request.reason }}){% endif %} |
| Risk | **{{ request.risk.value }}** |
| Protected paths | {% for p in request.paths %}`{{ p }}`{% if not loop.last %}, {% endif %}{% endfor %} |
| Other files of the phase | {% for p in request.changed_paths if p not in request.paths %}`{{ p }}`{% if not loop.last %}, {% endif %}{% else %}none{% endfor %} |
| Changed lines (protected) | {{ request.changed_lines }}{% if request.deletes %} (deletes a file){% endif %} |
| Head SHA | `{{ request.head_sha or "not recorded yet" }}` |
| Requested at | {{ request.created_at.strftime("%Y-%m-%d %H:%M:%S UTC") }} |

### Justification (the model's summary)

{{ justification or "(none given)" }}

### Diff preview
{% if request.stale %}
⚠️ The held ops no longer apply at head `{{ request.head_sha }}`: {{ stale }}. There is no diff to show; approving is refused. Deny it, or let it expire so the phase is rebuilt on the current head.
{% else %}
```diff
{{ diff }}{% if request.preview_truncated %}
… (preview truncated; the full change is in the held ops){% endif %}
```
{% endif %}{% if not request.approvable %}

⛔ This request touches {% for p in request.blocked_paths %}`{{ p }}`{% if not loop.last %}, {% endif %}{% endfor %}, which can never be approved (`.github/workflows/**` and `.git/**` are never written). Deny it.
{% endif %}
{% if request.state.value == "pending" and request.stale %}

### How to decide

- On the pull request: comment `{{ command }} deny {{ request.id }}`, or add the label `{{ deny_label }}` to deny when this is the only pending request. Locally: `autopack deny {{ request.id }} --by NAME`, then `autopack resume`.
{% elif request.state.value == "pending" %}

### How to decide

- On the pull request: add the label `{{ approve_label }}` to approve or `{{ deny_label }}` to deny, or comment `{{ command }} approve {{ request.id }}` or `{{ command }} deny {{ request.id }}` (with several pending requests a label is refused: comment instead). It counts only from someone with write, maintain or admin access, after this comment, while the PR head is `{{ request.head_sha or "(the head recorded here)" }}`.
- Locally: `autopack approve {{ request.id }} --by NAME` or `autopack deny {{ request.id }} --by NAME`, then `autopack resume`.

Approval applies exactly the held ops shown above; if they or the head change, a fresh request is needed.
{% endif %}
"""

TEMPLATES["phase.md.j2"] = r"""# Run goal
{{ untrusted_note }}

{{ run_goal }}

# Phase `{{ phase.id }}`: {{ phase.title | untrusted }}
{% if phase.goal %}{{ phase.goal | untrusted }}
{% endif %}
{% if phase.deliverables %}
## Deliverables
{% for d in phase.deliverables %}- `{{ d.path }}` ({{ d.action.value }}{% if d.old_path %} from `{{ d.old_path }}`{% endif %}){% if d.description %}: {{ d.description | untrusted }}{% endif %}
{% endfor %}{% endif %}
{% if phase.validation_tests %}
## Tests that must pass
{% for t in phase.validation_tests %}- `{{ t }}`
{% endfor %}{% endif %}
{% if phase.acceptance %}
## Acceptance criteria
{% for a in phase.acceptance %}- {{ a | untrusted }}
{% endfor %}{% endif %}
{% if protected_paths %}
## Protected paths (changes there need a maintainer's approval)
{% for p in protected_paths %}- `{{ p }}`
{% endfor %}{% endif %}
{% if related %}
## Related code from other files (context: read it, change only the deliverables)
{% for b in related %}
<related path="{{ b.path }}" view="{{ b.view }}" why="{{ b.reason }}">
{{ b.text }}
</related>
{% endfor %}
{% endif %}{% if files %}
## Current file contents
{% for f in files %}
<file path="{{ f.path }}">
{{ f.text }}
</file>
{% endfor %}{% endif %}
{% if extra_context %}{{ extra_context }}

{% endif %}{% if output_format == "whole" %}Every file of this phase is new or rewritten: write each one whole (`write`, then `append` chunks).
{% elif output_format == "edit" %}Change existing files with `edit` ops (small, unique `old` snippets), not by rewriting them; `write` only new files.
{% endif %}Emit the NDJSON operations for this phase now, starting at id 1.
"""

TEMPLATES[
    "plan.md.j2"
] = r"""Plan the work below as an Autopack run spec: the phases a builder model will carry out one after the
other, each one commit that leaves the repository working.

# Goal
{{ untrusted_note }}

{{ goal }}

{% if context %}{% if context.instructions %}# Repository instructions (from the maintainers)
{% for i in context.instructions %}
<instructions source="{{ i.source }}">
{{ i.text }}
</instructions>
{% endfor %}
{% endif %}# Repository map ({{ total }} files; closest to the goal first, with the signatures of their definitions)
{{ context.repo_map }}

{% else %}# Repository files ({{ files | length }}{% if omitted %}, {{ omitted }} more not listed{% endif %})
| path | bytes |
|---|--:|
{% for f in files %}| {{ f.path }} | {{ f.size }} |
{% endfor %}
{% endif %}{% if protected_paths %}
Protected paths (changes there need a maintainer's approval; avoid them): {% for p in protected_paths %}`{{ p }}`{% if not loop.last %}, {% endif %}{% endfor %}

{% endif %}
# Answer format
Answer with ONE JSON object and nothing else (no prose, no Markdown fences), of this shape:

{"goal": "one line", "phases": [{"id": "short-id", "title": "...", "goal": "what this phase does",
  "complexity": "low|medium|high", "category": "backend|frontend|tests|docs|config",
  "deliverables": [{"path": "src/pkg/mod.py", "action": "create|modify|delete|rename",
  "description": "...", "old_path": "only for rename"}],
  "depends_on": ["ids of earlier phases"], "validation_tests": ["tests/test_x.py"],
  "acceptance": ["checkable criteria"]}]}

Rules:
- Phase ids are unique, lowercase letters, digits and "-"; depends_on names earlier phases only.
- Use between 1 and {{ max_phases }} phases; each phase touches a few files and can be reviewed alone.
- `modify`, `delete` and `rename` deliverables name files of the repository shown above; `create` names new files.
- Paths are relative to the repository root with "/" separators; never .git/ or .github/workflows/.
- Put tests in the phase that adds the code they test, or in a later phase.
"""

TEMPLATES["plan_repair.md.j2"] = r"""Your run spec was rejected:
{% for p in problems %}- {{ p }}
{% endfor %}
Answer again with the whole corrected JSON object, and nothing else.
"""

TEMPLATES[
    "pending_requests.md.j2"
] = r"""{% for r in requests %}- `{{ r.id }}` (phase `{{ r.phase_id }}`): {% for p in r.paths %}`{{ p }}`{% if not loop.last %}, {% endif %}{% endfor %}, risk **{{ r.risk.value }}**: {% if r.stale or not r.approvable %}comment `{{ command }} deny {{ r.id }}` (it cannot be approved{% if r.stale %}: its ops no longer apply{% endif %}){% else %}comment `{{ command }} approve {{ r.id }}` or `{{ command }} deny {{ r.id }}`{% endif %}
{% endfor %}"""

TEMPLATES["pr_body.md.j2"] = r"""{{ goal }}

This pull request was generated by Autopack, one commit per phase.

| phase | title | status | ops | commit |
|---|---|---|---|---|
{% for p in state.phases %}| `{{ p.id }}` | {{ p.title }} | {{ status_icon[p.status.value] }} {{ p.status.value }} | {{ p.ops_applied }} | {{ p.commit_sha[:10] if p.commit_sha else "" }} |
{% endfor %}
{% if issue_number %}
Closes #{{ issue_number }}
{% endif %}
"""

TEMPLATES["repair.md.j2"] = r"""Some of your operations were rejected:
{% for r in rejected %}- {{ r }}
{% endfor %}
Operations up to id {{ last_id }} are settled (rejected ones had no effect). Continue from operation id {{ last_id + 1 }} with operations that fix these problems, then `done`.
"""

TEMPLATES["summary.md.j2"] = r"""## Autopack run `{{ state.run_id }}` on `{{ state.branch }}`

{% for p in state.phases %}- {{ status_icon[p.status.value] }} `{{ p.id }}` {{ p.status.value }}{% if p.resumed %} (earlier run){% endif %}{% if p.reason %}: {{ p.reason }}{% endif %}
{% endfor %}
This run: {{ requests }} request(s), {{ state.usage.output_tokens }} output tokens, {{ state.usage.input_tokens }} input tokens, ${{ "%.4f" | format(state.cost_usd) }}{% if state.phases | selectattr("resumed") | list %} (phases committed by earlier runs are not counted; the telemetry table has every run){% endif %}
"""

TEMPLATES[
    "system.md.j2"
] = r"""You are Autopack's builder. You change a git repository by emitting edit operations, and nothing else.

Output format: NDJSON. One JSON object per line, no Markdown fences, no prose. Every object has
"op" and "id"; ids are 1, 2, 3, ... in order, with no gaps.

| op | fields | meaning |
|---|---|---|
| write | path, content | create or overwrite a whole file (its first chunk) |
| append | path, content | add the next chunk to a file you wrote earlier in this stream |
| edit | path, old, new, count (optional, default 1) | replace `old`, which must occur exactly `count` times |
| delete | path | remove a file |
| rename | path, to | move a file (never onto an existing file) |
| manifest | files: [{"path", "symbols": [...]}] | the files and symbols (functions, classes, constants) you created or changed |
| done | summary | the last line: one or two sentences on what you did |

Rules:
- Paths are relative to the repository root, with "/" separators.
- Prefer `edit` for changes to existing files; include enough context in `old` to make it unique.
- Write long files in chunks of at most {{ chunk_lines }} lines: one `write`, then `append`s.
- Never touch .git/ or .github/workflows/.
- Emit `manifest` before `done`. Without `done` your output is treated as incomplete.
- If your output is cut off, you will be asked to continue from a given id: resume exactly there.
{% if instructions %}
# Repository instructions

From the repository's maintainers and the run's settings: follow them wherever they apply.
{% for i in instructions %}
<instructions source="{{ i.source }}">
{{ i.text }}
</instructions>
{% endfor %}{% endif %}{% if repo_map %}
# Repository map

Other files of the repository, closest to this run's work first, with the signatures of their definitions (bodies omitted; a bare path has none listed). Each phase's prompt has the full text of the files it changes and the code related to them.

{{ repo_map }}
{% endif %}"""

TEMPLATES[
    "tracking_comment.md.j2"
] = r"""## 🤖 Autopack{% if t.issue_number %} for #{{ t.issue_number }}{% endif %}: `{{ t.branch }}`

{% if t.pr_number %}Pull request: #{{ t.pr_number }}{% else %}Pull request: opened after the first phase commits{% endif %}{% if t.run_url %} · [workflow run]({{ t.run_url }}){% endif %}

{% for p in phases %}- [{{ "x" if p.status.value == "committed" else " " }}] {{ status_icon[p.status.value] }} `{{ p.id }}` {{ p.title }}: **{{ p.status.value }}**{% if p.commit_sha %} ({{ p.commit_sha[:10] }}){% endif %}{% if t.check_urls.get(p.id) %} · [check run]({{ t.check_urls[p.id] }}){% endif %}{% if p.reason %}: {{ p.reason | replace("\n", " ") | truncate(300) }}{% endif %}
{% else %}- ⏳ planning the phases
{% endfor %}
{% if pending | length == 1 %}🔒 Waiting for a decision on governance request `{{ pending[0].id }}` (phase `{{ pending[0].phase_id }}`): add `{{ approve_label }}` or `{{ deny_label }}` to {{ "the pull request" if t.pr_number else "this issue" }}, or comment `{{ command }} approve {{ pending[0].id }}` (`deny`).
{% elif pending %}🔒 {{ pending | length }} governance requests wait for a decision; a label cannot say which one it decides, so decide each with a comment on {{ "the pull request" if t.pr_number else "this issue" }}:
{{ pending_list }}{% endif %}
{% if t.followups %}
### Follow-ups
{% for f in t.followups %}- {{ status_icon.get(f.status, "🔨") }} [comment]({{ f.url }}) by **{{ f.author }}**{% if f.path %} on `{{ f.path }}`{% if f.line %}:{{ f.line }}{% endif %}{% endif %}: {{ f.instruction }} · **{{ f.status }}**{% if f.commit_sha %} ({{ f.commit_sha[:10] }}){% endif %}{% if t.check_urls.get(f.phase_id) %} · [check run]({{ t.check_urls[f.phase_id] }}){% endif %}
{% endfor %}
{% endif %}Cost so far: **${{ "%.4f" | format(cost_usd) }}** · output tokens: {{ output_tokens }}{% if t.conclusion %} · conclusion: **{{ t.conclusion }}**{% endif %}

{% if audit %}
<details><summary>Governance audit log (latest {{ audit | length }})</summary>

{% for e in audit %}- {{ e.at.strftime("%Y-%m-%d %H:%M:%S UTC") }} · **{{ e.action }}** · request `{{ e.request_id }}` (`{{ e.phase_id }}`) by {{ e.actor }}{% if e.head_sha %} at `{{ e.head_sha[:10] }}`{% endif %}{% if e.detail %}: {{ e.detail | replace("\n", " ") | replace("<", "&lt;") | truncate(200) }}{% endif %}
{% endfor %}
</details>

{% endif %}<sub>Autopack edits this comment in place; the block below lets a re-run resume.</sub>
"""

TEMPLATES["followup_context.md.j2"] = r"""## Follow-up on the pull request
This phase is a reviewer's follow-up on the pull request's branch. It has no deliverables list: change the files the instruction needs (protected paths above still need approval), keep the tests passing, and leave the rest of the pull request as it is.

### The pull request's changes so far (its diff against the base{% if diff_cut %}, cut at {{ limit }} characters{% endif %})
{% if not diff_known %}(the diff could not be read from this checkout)
{% elif diff %}<pr-diff>
{{ diff }}
</pr-diff>
{% else %}(no changes yet)
{% endif %}{% if anchor %}
### The review comment is on `{{ anchor.path }}`{% if anchor.line %}, line {{ anchor.line }}{% endif %}
{% if marked is not none %}
The file as it is on the branch now, with a line-number gutter; the commented line is marked `>>`. The gutter and the marker are not part of the file: leave them out of `old` snippets.
<file path="{{ anchor.path }}" marked-line="{{ anchor.line or '' }}">
{{ marked }}
</file>
{% elif too_big %}
(`{{ anchor.path }}` is too large or binary to show.)
{% else %}
(`{{ anchor.path }}` does not exist on the branch now.)
{% endif %}{% if hunk %}
The diff hunk the comment was made on:
<diff-hunk>
{{ hunk }}
</diff-hunk>
{% endif %}{% endif %}"""

TEMPLATES[
    "followup_reply.md.j2"
] = r"""{% if status == "committed" %}🚀 Done: {{ commit_link }} on `{{ branch }}`{% if cost_usd %} (cost ${{ "%.4f" | format(cost_usd) }}){% endif %}{% if check_url %} · [check run]({{ check_url }}){% endif %}.
{% elif status == "awaiting_approval" %}🔒 The follow-up touches protected paths and waits for a maintainer: {{ reason }}.{% for r in requests %}
Comment `{{ command }} approve {{ r.id }}` or `{{ command }} deny {{ r.id }}` (risk **{{ r.risk.value }}**).{% endfor %}{% if check_url %} · [check run]({{ check_url }}){% endif %}
{% elif status == "denied" %}🚫 The follow-up was denied: {{ reason }}; nothing was committed.
{% elif status == "refused" %}⛔ Autopack did not act on this comment: {{ reason }}.
{% elif status == "error" %}⚠️ Autopack stopped before the follow-up was done: {{ reason }}. Re-run the workflow to try again.
{% else %}❌ The follow-up was not committed ({{ status }}): {{ reason }}{% if check_url %} · [check run]({{ check_url }}){% endif %}{% if patch %}; its changes are kept as `{{ patch }}` in the workflow's artifacts{% endif %}.
{% endif %}
<sub>Follow-up of [this comment]({{ url }}) by {{ author }}{% if cost_usd and status != "committed" %} · cost ${{ "%.4f" | format(cost_usd) }}{% endif %}.</sub>
"""

TEMPLATES["batch.md.j2"] = r"""{% if count > 1 %}
## This turn: batch {{ index + 1 }} of {{ count }}
{% if index == 0 %}The deliverables are split into {{ count }} batches, written in this conversation one after the other. {% endif %}Write only these files now, in this order, then end with `done` (the next batch follows in a new turn; ids go on from your last op):
{% for p in paths %}- `{{ p }}`
{% endfor %}{% if gaps %}
Names the files you already wrote import but that are not defined yet; define them in this batch:
{% for importer, name, target in gaps %}- `{{ importer }}` imports {% if name == "*" %}module `{{ target }}`, which does not exist yet{% else %}`{{ name }}` from `{{ target }}`{% endif %}
{% endfor %}{% endif %}{% elif ordered %}
Write the deliverables in the order listed: each file after the files it imports from.
{% endif %}"""
