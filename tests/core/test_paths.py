"""The path policy: aliases of .git, control and invisible characters, folders named as files."""

from __future__ import annotations

import pytest

from autopack.core.paths import check_repo_path
from autopack.errors import PathPolicyError

# Names Windows (NTFS: trailing dots/spaces dropped, `:stream` suffixes, 8.3 short names) or macOS
# (HFS+: ignorable code points dropped) resolve to `.git`.
GIT_ALIASES = [
    ".git.",
    ".git ",
    ".git. .",
    ".GIT.",
    ".git::$INDEX_ALLOCATION",
    ".git:stream",
    ".GIT:x:$DATA",
    ".git.::$INDEX_ALLOCATION",
    "GIT~1",
    "git~1",
    "Git~2",
    "git~9",
    "git~1.",
    "git~1::$INDEX_ALLOCATION",
    ".g\u200cit",
    ".g\u200dit",
    ".gi\ufefft",
    "\u200e.git",
    ".git\u200f",
    ".G\u202aIT",
    ".g\u206ait",
    ".g\u206fit.",
]
WHERE = ["{}", "{}/config", "sub/{}/config", "a/b/{}/hooks/pre-commit"]


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("name", GIT_ALIASES, ids=ascii)
def test_aliases_of_git_are_inside_git(name: str, where: str) -> None:
    path = where.format(name)
    with pytest.raises(PathPolicyError) as info:
        check_repo_path(path)
    assert str(info.value) == f"path {path!r} is inside .git/; Autopack never writes there"


@pytest.mark.parametrize(
    "path",
    [
        ".github/workflows/ci.yml",
        ".gitignore",
        ".gitmodules",
        ".git.bak/x",
        ".git-rewrite/x",
        "my.git./x",
        "git/x",
        "git~/x",
        "git~a/x",
        "git~1x/x",
        "agit~1/x",
        "docs/a:b.txt",
    ],
)
def test_names_that_only_look_like_git_are_files(path: str) -> None:
    assert check_repo_path(path) == path


# DEL, C1 controls, bidi overrides and isolates, zero-width characters and the BOM.
REFUSED_CHARACTERS = {
    "\x7f": "a control character",
    "\x80": "a control character",
    "\x85": "a control character",
    "\x9f": "a control character",
    "\u202a": "a bidi control character",
    "\u202b": "a bidi control character",
    "\u202c": "a bidi control character",
    "\u202d": "a bidi control character",
    "\u202e": "a bidi control character",
    "\u2066": "a bidi control character",
    "\u2067": "a bidi control character",
    "\u2068": "a bidi control character",
    "\u2069": "a bidi control character",
    "\u200b": "an invisible format character",
    "\u200c": "an invisible format character",
    "\u200d": "an invisible format character",
    "\u200e": "an invisible format character",
    "\u200f": "an invisible format character",
    "\ufeff": "an invisible format character",
}


@pytest.mark.parametrize(("char", "kind"), REFUSED_CHARACTERS.items(), ids=ascii)
@pytest.mark.parametrize("where", ["{}evil.py", "src/a{}b.py", "src/x.py{}"])
def test_control_and_invisible_characters_are_named_by_code_point(
    char: str, kind: str, where: str
) -> None:
    path = where.format(char)
    with pytest.raises(PathPolicyError) as info:
        check_repo_path(path)
    assert str(info.value) == f"path {path!r} contains {kind} U+{ord(char):04X}"


def test_c0_control_characters_are_named_by_code_point() -> None:
    with pytest.raises(PathPolicyError) as info:
        check_repo_path("a\nb")
    assert str(info.value) == "path 'a\\nb' contains a control character U+000A"


def test_visible_non_ascii_names_are_files() -> None:
    for path in ["docs/café.md", "src/日本語.py", "a b.txt"]:
        assert check_repo_path(path) == path


@pytest.mark.parametrize("path", ["newdir/", "src/pkg/", "a//", "src/./pkg/"])
def test_a_trailing_slash_names_a_folder(path: str) -> None:
    with pytest.raises(PathPolicyError) as info:
        check_repo_path(path)
    assert str(info.value) == (
        f"path {path!r} names a folder, not a file; a file path cannot end with '/'"
    )


def test_a_folder_may_end_with_a_slash_where_folders_are_allowed() -> None:
    assert check_repo_path("tests/unit/", allow_folder=True) == "tests/unit"
    assert check_repo_path("./tests/", allow_folder=True) == "tests"
    with pytest.raises(PathPolicyError, match=r"'\.git\./' is inside \.git/"):
        check_repo_path(".git./", allow_folder=True)
    with pytest.raises(PathPolicyError, match=r"'\.\./x/' contains '\.\.'"):
        check_repo_path("../x/", allow_folder=True)
