"""Pure path policy for repo-relative paths: what a spec or an edit op may name."""

from __future__ import annotations

import posixpath

from autopack.errors import PathPolicyError

MAX_NAME_BYTES = 255  # one file or folder name (NAME_MAX on Linux and macOS)
MAX_PATH_BYTES = 1024  # a whole repo-relative path


def check_repo_path(path: str) -> str:
    """Return the normalised repo-relative POSIX path, or raise PathPolicyError saying why not.

    Refused: empty, NUL or control characters, absolute (`/x`, `C:\\x`, `\\\\host`), backslashes,
    any `..` segment, and anything under `.git/` (at any depth, in any letter case)."""
    if not isinstance(path, str) or path == "":
        raise PathPolicyError("path is empty")
    if "\x00" in path:
        raise PathPolicyError(f"path {path!r} contains a NUL byte")
    if any(ord(c) < 32 for c in path):
        raise PathPolicyError(f"path {path!r} contains a control character")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise PathPolicyError(f"path {path!r} is not valid UTF-8 (lone surrogate)") from None
    if "\\" in path:
        raise PathPolicyError(f"path {path!r} contains a backslash; use '/' separators")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise PathPolicyError(f"path {path!r} is absolute; paths are relative to the repo root")
    parts = path.split("/")
    if ".." in parts:
        raise PathPolicyError(f"path {path!r} contains '..'; paths must stay inside the repo")
    if len(path.encode("utf-8")) > MAX_PATH_BYTES:
        raise PathPolicyError(f"path {path[:60]!r}... is too long (limit {MAX_PATH_BYTES} bytes)")
    long_part = next((p for p in parts if len(p.encode("utf-8")) > MAX_NAME_BYTES), None)
    if long_part is not None:
        raise PathPolicyError(
            f"path {path[:60]!r}... has a name longer than {MAX_NAME_BYTES} bytes"
        )
    norm = posixpath.normpath(path)
    if norm in (".", ""):
        raise PathPolicyError(f"path {path!r} names the repo root, not a file")
    if any(p.lower() == ".git" for p in norm.split("/")):
        raise PathPolicyError(f"path {path!r} is inside .git/; Autopack never writes there")
    return norm
