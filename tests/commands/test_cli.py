"""The command line: run (exit codes, summary, progress, re-runs, bad options), validate, plan,
schema. Runs `main()` in-process on real repos, and the installed console script once."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import git
import jsonschema
import pytest
import yaml

from autopack.cli import main

SPEC = {
    "goal": "Greet better",
    "phases": [
        {"id": "a", "title": "Add a"},
        {"id": "b", "title": "Add b", "depends_on": ["a"]},
    ],
}


def ndjson(ops: list[dict[str, Any]], first: int = 1) -> str:
    return "".join(json.dumps({**o, "id": n}) + "\n" for n, o in enumerate(ops, first))


def record(phase: str, ops: list[dict[str, Any]], first: int = 1) -> str:
    text = ndjson(ops, first)
    return json.dumps({"phase": phase, "text": text, "usage": {"output_tokens": 50}}) + "\n"


A = record("a", [{"op": "write", "path": "a.txt", "content": "a\n"}, {"op": "done"}])
B = record("b", [{"op": "write", "path": "b.txt", "content": "b\n"}, {"op": "done"}])
B_BAD = record("b", [{"op": "edit", "path": "a.txt", "old": "zzz", "new": "y"}, {"op": "done"}])
B_BAD_REPAIR = record(
    "b", [{"op": "edit", "path": "a.txt", "old": "zz", "new": "y"}, {"op": "done"}], first=3
)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    spec = tmp_path / "feature.yaml"
    spec.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    return {"spec": spec, "out": tmp_path / "out", "transcript": tmp_path / "t.jsonl"}


def autopack_run(repo: Path, files: dict[str, Path], transcript: str, *extra: str) -> int:
    files["transcript"].write_text(transcript, encoding="utf-8")
    args = ["run", "--repo", str(repo), "--spec", str(files["spec"]), "--no-tests"]
    args += ["--replay", str(files["transcript"]), "--out", str(files["out"]), *extra]
    return main(args)


def test_run_succeeds_with_summary_and_progress(
    git_repo: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert autopack_run(git_repo, files, A + B) == 0
    out, err = capsys.readouterr()
    assert "[1/2] a: building (Add a)" in err and "[2/2] b: building (Add b)" in err
    assert "[1/2] a: committed" in err and "[2/2] b: committed" in err
    assert "`a` committed" in out and "`b` committed" in out
    assert f"Reports: {files['out'].resolve()}" in out
    log = git.Repo(git_repo).git.log("--format=%s", "autopack/feature", "^main").splitlines()
    assert log == ["autopack(b): Add b", "autopack(a): Add a"]


def test_run_fails_with_a_summary_and_rerun_only_builds_the_rest(
    git_repo: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert autopack_run(git_repo, files, A + B_BAD + B_BAD_REPAIR) == 1
    out, err = capsys.readouterr()
    assert "`a` committed" in out
    assert "`b` failed" in out and "found 0" in out
    assert "b: failed:" in err

    assert autopack_run(git_repo, files, B) == 0  # a is not asked for again
    out, err = capsys.readouterr()
    assert "[1/2] a: already committed in" in err
    assert "`a` committed (earlier run)" in out
    log = git.Repo(git_repo).git.log("--format=%s", "autopack/feature", "^main").splitlines()
    assert log == ["autopack(b): Add b", "autopack(a): Add a"]

    git.Repo(git_repo).heads["main"].checkout()
    assert autopack_run(git_repo, files, "") == 0  # nothing left to do: no request, no commit
    assert len(git.Repo(git_repo).git.rev_list("autopack/feature", "^main").split()) == 2


def test_dirty_tree_is_a_clear_error(
    git_repo: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (git_repo / "README.md").write_text("local edit\n", encoding="utf-8")
    assert autopack_run(git_repo, files, A + B) == 1
    err = capsys.readouterr().err
    assert "autopack: error:" in err and "uncommitted changes" in err
    assert "Traceback" not in err


def test_replay_file_missing(
    git_repo: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    missing = files["out"].parent / "nope.jsonl"
    code = main(
        ["run", "--repo", str(git_repo), "--spec", str(files["spec"]), "--replay", str(missing)]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert f"cannot read replay transcript {missing}" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", ":2: line: Invalid JSON"),
        ('{"text": 5}', ":2: text: Input should be a valid string"),
        ('{"text": "x", "stop_reason": "tired"}', ":2: stop_reason: Input should be"),
        ('{"text": "x", "colour": 1}', ":2: colour: Extra inputs are not permitted"),
    ],
)
def test_malformed_replay_line_is_named(
    git_repo: Path,
    files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    line: str,
    expected: str,
) -> None:
    assert autopack_run(git_repo, files, A + line + "\n" + B) == 1
    err = capsys.readouterr().err
    assert f"{files['transcript']}{expected}" in err, err
    assert "autopack/feature" not in git.Repo(git_repo).heads  # refused before any work


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (["--max-tokens", "-5"], "max_tokens: Input should be greater than 0"),
        (["--max-tokens", "0"], "max_tokens: Input should be greater than 0"),
        (["--max-continuations", "-1"], "max_continuations: Input should be greater than or equal"),
    ],
)
def test_bad_numbers_are_clear_errors(
    git_repo: Path,
    files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    option: list[str],
    expected: str,
) -> None:
    assert autopack_run(git_repo, files, A + B, *option) == 2
    err = capsys.readouterr().err
    assert "autopack: error: invalid setting:" in err and expected in err, err
    assert "Traceback" not in err


def test_non_numeric_max_tokens_from_the_console_script(git_repo: Path, tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("autopack")
    proc = subprocess.run(
        [str(exe), "run", "--repo", str(git_repo), "--spec", "x.yaml", "--max-tokens", "lots"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "argument --max-tokens: invalid int value: 'lots'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_with_an_invalid_spec(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "goal: g\nphases:\n  - {id: a, title: A, depends_on: [ghost]}\n", encoding="utf-8"
    )
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(A, encoding="utf-8")
    code = main(["run", "--repo", str(git_repo), "--spec", str(spec), "--replay", str(transcript)])
    assert code == 1
    assert "phases[0].depends_on[0]: unknown phase 'ghost'" in capsys.readouterr().err


# -- validate, plan, schema ------------------------------------------------------------------
def test_validate(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(files["spec"])]) == 0
    assert capsys.readouterr().out.strip() == f"{files['spec']}: valid (2 phase(s))"

    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "goal": "g",
                "typo": 1,
                "phases": [
                    {"id": "a", "title": "A", "depends_on": ["b"]},
                    {
                        "id": "b",
                        "title": "B",
                        "depends_on": ["a"],
                        "deliverables": [{"path": "/x"}],
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: invalid run spec (3 problem(s))" in err
    assert "  - typo: unknown key" in err
    assert "  - phases[1].deliverables[0].path: path '/x' is absolute" in err
    assert "dependency cycle a -> b -> a" in err


def test_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "none.yaml")]) == 1
    assert "cannot read" in capsys.readouterr().err


PLAN_SPEC = {
    "goal": "g",
    "phases": [
        {"id": "docs", "title": "Docs", "depends_on": ["api"]},
        {"id": "api", "title": "API", "depends_on": ["types"]},
        {"id": "types", "title": "Types"},
        {"id": "lint", "title": "Lint"},
    ],
}


def test_plan_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "plan.yaml"
    spec.write_text(yaml.safe_dump(PLAN_SPEC, sort_keys=False), encoding="utf-8")
    assert main(["plan", str(spec)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Order:",
        "  1. types: Types",
        "  2. api: API (after types)",
        "  3. docs: Docs (after api)",
        "  4. lint: Lint",
        "Waves (phases in a wave could run in parallel):",
        "  wave 1: types, lint",
        "  wave 2: api",
        "  wave 3: docs",
        "Deliverables (writing order; batches):",
        "  types: (none)",
        "  api: (none)",
        "  docs: (none)",
        "  lint: (none)",
    ]
    assert main(["plan", "--json", str(spec)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["order"] == ["types", "api", "docs", "lint"]
    assert out["waves"] == [["types", "lint"], ["api"], ["docs"]]
    assert out["phases"][0] == {"id": "types", "order": [], "batches": [[]]}


def test_plan_orders_deliverables_by_imports_and_splits_wide_phases(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (git_repo / "pkg").mkdir()
    (git_repo / "pkg" / "core.py").write_text(
        "from pkg.settings import Options\n\n\ndef run(o: Options) -> None: ...\n"
    )
    (git_repo / "pkg" / "settings.py").write_text("class Options: ...\n")
    wide = [{"path": f"pkg/plugins/p{i:02}.py", "action": "create"} for i in range(14)]
    spec = tmp_path / "deps.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "goal": "g",
                "phases": [
                    {
                        "id": "core",
                        "title": "Core",
                        "deliverables": [
                            {"path": "docs/core.md", "action": "create"},
                            {"path": "tests/test_core.py", "action": "create"},
                            {"path": "pkg/core.py"},
                            {"path": "pkg/settings.py"},
                        ],
                    },
                    {"id": "wide", "title": "Wide", "deliverables": wide},
                ],
            }
        )
    )
    assert main(["plan", "--json", "--repo", str(git_repo), str(spec)]) == 0
    core, wide_phase = json.loads(capsys.readouterr().out)["phases"]
    # The module before its importer (core.py imports settings.py), then tests, then docs.
    assert core["order"] == ["pkg/settings.py", "pkg/core.py", "tests/test_core.py", "docs/core.md"]
    assert core["batches"] == [core["order"]]
    assert [len(b) for b in wide_phase["batches"]] == [12, 2]
    assert [p for b in wide_phase["batches"] for p in b] == wide_phase["order"]
    # Without the checkout the order comes from paths and names alone.
    assert main(["plan", "--json", str(spec)]) == 0
    blind = json.loads(capsys.readouterr().out)["phases"][0]["order"]
    assert blind[2:] == ["tests/test_core.py", "docs/core.md"]
    assert main(["plan", "--repo", str(git_repo), str(spec)]) == 0
    text = capsys.readouterr().out
    assert "  core: pkg/settings.py, pkg/core.py, tests/test_core.py, docs/core.md" in text
    assert (
        "  wide: 2 batches" in text
        and "    batch 2: pkg/plugins/p12.py, pkg/plugins/p13.py" in text
    )


def test_plan_of_a_cyclic_spec_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "cyc.yaml"
    spec.write_text(
        "goal: g\nphases:\n  - {id: a, title: A, depends_on: [b]}\n"
        "  - {id: b, title: B, depends_on: [a]}\n",
        encoding="utf-8",
    )
    assert main(["plan", str(spec)]) == 1
    assert "dependency cycle a -> b -> a" in capsys.readouterr().err


def test_schema_prints_a_valid_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["title"] == "Autopack run spec"
    assert schema["required"] == ["goal"]
    jsonschema.validate(SPEC, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"goal": "g", "phases": [{"id": "Bad Id", "title": "t"}]}, schema)


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: autopack" in capsys.readouterr().out


def test_help_lists_every_command_with_the_help_its_module_gives() -> None:
    from autopack.cli import COMMANDS, build_parser

    def helps(parser: argparse.ArgumentParser) -> dict[str, str | None]:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return {c.dest: c.help for c in sub._choices_actions}

    full = helps(build_parser(None))  # every module imported and registered
    assert full == {name: text for name, _, text in COMMANDS}
    assert helps(build_parser("validate")) == full


def test_a_subcommand_imports_only_its_own_module() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from autopack.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['schema']) == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith('autopack.commands.')))\n"
        "print('anthropic' in sys.modules, 'git' in sys.modules, 'github' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["['autopack.commands.schema']", "False False False"]
