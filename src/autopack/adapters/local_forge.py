"""A Forge that writes what GitHub would show into an output folder: the PR (JSON + Markdown),
comments (one file per key, edited in place) and check runs (JSON payload + rendered Markdown)."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from autopack.core.checks import CheckRun, PullRequestRef
from autopack.core.render.reports import render_check_markdown
from autopack.errors import ForgeError


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-").lower() or "item"


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


class LocalForge:
    def __init__(self, out_dir: str | Path) -> None:
        self.out = Path(out_dir)
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ForgeError(f"cannot create output folder {self.out}: {exc.strerror}") from exc

    def ensure_pull_request(
        self, head: str, base: str, title: str, body: str, draft: bool = True
    ) -> PullRequestRef:
        path = self.out / "pr.json"
        number = 1
        if path.exists():
            number = int(json.loads(path.read_text(encoding="utf-8")).get("number", 1))
        ref = PullRequestRef(number=number, url=str((self.out / "pr.md").resolve()), draft=draft)
        data = {
            "number": number,
            "head": head,
            "base": base,
            "title": title,
            "draft": draft,
            "body": body,
        }
        write_text_atomic(path, json.dumps(data, indent=2) + "\n")
        write_text_atomic(self.out / "pr.md", f"# {title}\n\n`{head}` -> `{base}`\n\n{body}")
        return ref

    def upsert_comment(self, key: str, body: str) -> None:
        write_text_atomic(self.out / "comments" / f"{_slug(key)}.md", body)

    def publish_check_run(self, check: CheckRun) -> str:
        name = _slug(check.name.replace("Autopack / ", ""))
        write_text_atomic(
            self.out / "checks" / f"{name}.json", check.model_dump_json(indent=2) + "\n"
        )
        markdown = self.out / "checks" / f"{name}.md"
        write_text_atomic(markdown, render_check_markdown(check))
        return str(markdown)

    def save_artifact(self, name: str, text: str) -> str:
        path = self.out / name
        write_text_atomic(path, text)
        return str(path)

    def comments(self) -> dict[str, str]:
        folder = self.out / "comments"
        if not folder.is_dir():
            return {}
        return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.md"))}
