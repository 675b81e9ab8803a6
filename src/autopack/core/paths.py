"""Pure path policy for repo-relative paths: what a spec or an edit op may name."""

from __future__ import annotations

import posixpath
import re

from autopack.errors import PathPolicyError

MAX_NAME_BYTES = 255  # one file or folder name (NAME_MAX on Linux and macOS)
MAX_PATH_BYTES = 1024  # a whole repo-relative path

# Code points HFS+ ignores in a name, so `.g\u200cit` is `.git` on macOS.
_HFS_IGNORABLE = dict.fromkeys(
    [0x200C, 0x200D, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF]
)
_GIT_SHORT_NAME = re.compile(r"git~[0-9]+")  # the 8.3 short name Windows gives `.git`
# Characters that make a path read differently from what it is: bidi overrides and isolates, and
# zero-width characters and the byte order mark.
_BIDI_CONTROLS = frozenset([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_INVISIBLE = frozenset([*range(0x200B, 0x2010), 0xFEFF])


def is_git_name(name: str) -> bool:
    """Whether a file or folder name is `.git` on some file system: in any letter case, with code
    points HFS+ ignores, with trailing dots or spaces or an NTFS `:stream` suffix (both dropped by
    Windows), or as the 8.3 short name `GIT~<n>`."""
    bare = name.translate(_HFS_IGNORABLE).split(":", 1)[0].rstrip(". ").lower()
    return bare == ".git" or _GIT_SHORT_NAME.fullmatch(bare) is not None


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F  # C0, DEL and C1


def _hidden_character(path: str) -> str | None:
    """What is wrong with the first invisible character of `path`, None when it has none."""
    for char in path:
        code = ord(char)
        if code in _BIDI_CONTROLS:
            return f"a bidi control character U+{code:04X}"
        if code in _INVISIBLE:
            return f"an invisible format character U+{code:04X}"
    return None


def _check_lengths(path: str, parts: list[str]) -> None:
    if len(path.encode("utf-8")) > MAX_PATH_BYTES:
        raise PathPolicyError(f"path {path[:60]!r}... is too long (limit {MAX_PATH_BYTES} bytes)")
    long_part = next((p for p in parts if len(p.encode("utf-8")) > MAX_NAME_BYTES), None)
    if long_part is not None:
        raise PathPolicyError(
            f"path {path[:60]!r}... has a name longer than {MAX_NAME_BYTES} bytes"
        )


def check_repo_path(path: str, *, allow_folder: bool = False) -> str:
    """Return the normalised repo-relative POSIX path, or raise PathPolicyError saying why not.

    Refused: empty, NUL or control characters (C0, DEL, C1), bidi controls and invisible format
    characters, absolute (`/x`, `C:\\x`, `\\\\host`), backslashes, any `..` segment, a trailing `/`
    (a folder; accepted with `allow_folder`), and anything under `.git/` or a name Windows or macOS
    read as `.git` (see `is_git_name`), at any depth."""
    if not isinstance(path, str) or path == "":
        raise PathPolicyError("path is empty")
    if "\x00" in path:
        raise PathPolicyError(f"path {path!r} contains a NUL byte")
    control = next((c for c in path if _is_control(c)), None)
    if control is not None:
        raise PathPolicyError(f"path {path!r} contains a control character U+{ord(control):04X}")
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
    _check_lengths(path, parts)
    norm = posixpath.normpath(path)
    if norm in (".", ""):
        raise PathPolicyError(f"path {path!r} names the repo root, not a file")
    if path.endswith("/") and not allow_folder:
        raise PathPolicyError(
            f"path {path!r} names a folder, not a file; a file path cannot end with '/'"
        )
    # Before the invisible characters: a name HFS+ reads as `.git` is refused as `.git`.
    if any(is_git_name(p) for p in norm.split("/")):
        raise PathPolicyError(f"path {path!r} is inside .git/; Autopack never writes there")
    hidden = _hidden_character(path)
    if hidden is not None:
        raise PathPolicyError(f"path {path!r} contains {hidden}")
    return norm
