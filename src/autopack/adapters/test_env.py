"""The managed test environment: a virtual environment Autopack makes outside the repo (under the
output folder locally, under RUNNER_TEMP or a given folder in the Action), with pytest and
pytest-json-report installed by Autopack, and the user's setup command run once per run in it.

- Made with uv when Autopack has it (`uv venv --seed`, so `pip` works inside too, then `uv pip
  install`); else with `python -m venv` and pip. The base interpreter is `--test-python` (the
  `test_python` input) or the one Autopack runs on.
- A folder made earlier (kept between runs, e.g. by actions/cache) is reused when its marker says
  it was made from the same interpreter and pytest still imports in it; a folder that is not one
  of ours is never deleted.
- The setup command runs through `bash -c` in the repo root with the environment activated
  (VIRTUAL_ENV, PATH) and only the allowed variables (core/gates/environment.py); uv is on its
  PATH too when Autopack has it. A failure is a SetupError with its exit status and output tail.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autopack.adapters.process import run_in_group
from autopack.core.gates.environment import gate_environ
from autopack.errors import SetupError

TEST_PACKAGES = ("pytest>=8", "pytest-json-report>=1.5")
MARKER = "autopack-test-env.json"
TAIL_LINES = 25
INSTALL_TIMEOUT_S = 900.0


def uv_binary() -> str | None:
    """The uv that came with Autopack (the `uv` package), else one on PATH, else None."""
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def _tail(text: str, lines: int = TAIL_LINES) -> str:
    kept = [ln.rstrip() for ln in text.strip().splitlines() if ln.strip()][-lines:]
    return "\n".join(kept) or "(no output)"


@dataclass(frozen=True)
class ManagedEnv:
    """A made (or reused) environment: its folder, how it was made, and what that took."""

    folder: Path
    base_python: str
    installer: str  # "uv" or "pip"
    created: bool
    seconds: float

    @property
    def python(self) -> str:
        return str(self.folder / "bin" / "python")

    def variables(self, path: str | None = None) -> dict[str, str]:
        """VIRTUAL_ENV and PATH (the environment's bin first, then `path`, by default this
        process's PATH) for a process in it."""
        rest = os.environ.get("PATH", os.defpath) if path is None else path
        return {"VIRTUAL_ENV": str(self.folder), "PATH": f"{self.folder / 'bin'}{os.pathsep}{rest}"}

    def key(self, setup_command: str) -> str:
        """What identifies the environment's content for the baseline cache: its base
        interpreter and the setup command (not the folder it is in)."""
        raw = json.dumps([self.base_python, python_version(self.base_python), setup_command])
        return "managed-" + hashlib.sha256(raw.encode()).hexdigest()[:12]


def _run(
    argv: Sequence[str], *, cwd: str | None, env: dict[str, str], timeout: float, what: str
) -> subprocess.CompletedProcess[str]:
    """Run `argv` with stdout and stderr merged; a SetupError names `what` on a failure."""
    started = time.monotonic()
    try:
        proc = run_in_group(argv, cwd=cwd, env=env, timeout=timeout, merge_stderr=True)
    except OSError as exc:
        raise SetupError(f"{what} cannot start: {exc.strerror} ({argv[0]})") from None
    except subprocess.TimeoutExpired as exc:
        out = exc.output if isinstance(exc.output, str) else ""
        raise SetupError(
            f"{what} did not finish within {timeout:g} s (killed); last output lines:\n{_tail(out)}"
        ) from None
    out = proc.stdout
    if proc.returncode != 0:
        raise SetupError(
            f"{what} failed with exit status {proc.returncode} after "
            f"{time.monotonic() - started:.1f} s; last output lines:\n{_tail(out)}"
        )
    return proc


def python_version(python: str) -> str:
    """The version `python` reports; SetupError (naming it) when it does not run."""
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(sys.version.split()[0])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SetupError(f"the test interpreter {python} cannot run: {exc}") from None
    if out.returncode != 0:
        raise SetupError(f"the test interpreter {python} cannot run: {_tail(out.stderr)}")
    return out.stdout.strip()


def _reusable(folder: Path, base_python: str) -> bool:
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(marker, dict) or marker.get("base_python") != base_python:
        return False
    check = [str(folder / "bin" / "python"), "-c", "import pytest, pytest_jsonreport"]
    try:
        return subprocess.run(check, capture_output=True, timeout=120, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _clear(folder: Path) -> None:
    """Remove an earlier environment of ours (it has our marker); refuse to touch anything else."""
    if not folder.exists() and not folder.is_symlink():
        return
    if folder.is_dir() and not folder.is_symlink() and (folder / MARKER).is_file():
        shutil.rmtree(folder)
        return
    if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
        folder.rmdir()
        return
    raise SetupError(
        f"{folder} exists and is not a test environment Autopack made (no {MARKER}); "
        "delete it or choose another folder for the test environment"
    )


def make_env(
    folder: str | Path,
    *,
    base_python: str | None = None,
    use_uv: bool = True,
    env_allow: tuple[str, ...] = (),
) -> ManagedEnv:
    """The environment in `folder`: reused when it is one of ours from the same interpreter,
    else (re)made, with pytest and pytest-json-report installed."""
    started = time.monotonic()
    target = Path(folder).absolute()
    base = str(Path(base_python or sys.executable).absolute())
    python_version(base)  # a clear error for a --test-python that does not run
    uv = uv_binary() if use_uv else None
    installer = "uv" if uv else "pip"
    if not _reusable(target, base):
        _clear(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        env = gate_environ(os.environ, env_allow)
        if uv:
            _create_with_uv(uv, base, target, env)
        else:
            _create_with_pip(base, target, env)
        marker = {"base_python": base, "installer": installer}
        (target / MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")
        (target / ".gitignore").write_text("*\n", encoding="utf-8")  # inside a checkout too
        created = True
    else:
        created = False
    if uv:  # `uv pip install ...` works in the setup command too
        link = target / "bin" / "uv"
        with contextlib.suppress(OSError):
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(uv)
    return ManagedEnv(target, base, installer, created, time.monotonic() - started)


def _create_with_uv(uv: str, base: str, target: Path, env: dict[str, str]) -> None:
    what = f"making the test environment {target} with uv"
    _run(
        [uv, "venv", "--quiet", "--seed", "--python", base, str(target)],
        cwd=None,
        env=env,
        timeout=INSTALL_TIMEOUT_S,
        what=what,
    )
    python = str(target / "bin" / "python")
    _run(
        [uv, "pip", "install", "--quiet", "--python", python, *TEST_PACKAGES],
        cwd=None,
        env=env,
        timeout=INSTALL_TIMEOUT_S,
        what=f"installing {', '.join(TEST_PACKAGES)} into {target} with uv",
    )


def _create_with_pip(base: str, target: Path, env: dict[str, str]) -> None:
    _run(
        [base, "-m", "venv", str(target)],
        cwd=None,
        env=env,
        timeout=INSTALL_TIMEOUT_S,
        what=f"making the test environment {target} with {base} -m venv",
    )
    python = str(target / "bin" / "python")
    _run(
        [python, "-m", "pip", "install", "--quiet", *TEST_PACKAGES],
        cwd=None,
        env=env,
        timeout=INSTALL_TIMEOUT_S,
        what=f"installing {', '.join(TEST_PACKAGES)} into {target} with pip",
    )


def file_digests(root: str, paths: Sequence[str]) -> dict[str, str]:
    """sha256 of each path (relative to `root`, as git lists them) that exists: a regular file's
    bytes, a symlink's target (never followed); anything else is left out."""
    found = {}
    for rel in paths:
        target = os.path.join(root, rel)
        try:
            info = os.lstat(target)
            if stat.S_ISLNK(info.st_mode):
                data = b"symlink:" + os.fsencode(os.readlink(target))
            elif stat.S_ISREG(info.st_mode):
                with open(target, "rb") as fh:
                    data = fh.read()
            else:
                continue
        except OSError:
            continue
        found[rel] = hashlib.sha256(data).hexdigest()
    return found


def run_setup(
    command: str,
    root: str,
    env: ManagedEnv,
    *,
    env_allow: tuple[str, ...] = (),
    timeout_s: float = 1800.0,
) -> float:
    """Run the setup command once in the repo root, in the environment; returns its seconds."""
    started = time.monotonic()
    variables = gate_environ(os.environ, env_allow)
    variables.pop("PYTHONHOME", None)
    variables.update(env.variables(variables.get("PATH", os.defpath)))
    _run(
        ["bash", "-c", command],
        cwd=root,
        env=variables,
        timeout=timeout_s,
        what=f"the setup command {command!r}",
    )
    return time.monotonic() - started
