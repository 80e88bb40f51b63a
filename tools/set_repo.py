"""Point every GitHub address of this project at one repository, or check that they agree.

The repository is named once, in ``pyproject.toml``::

    [project.urls]
    Repository = "https://github.com/<owner>/<name>"

The notebooks' Colab badges and setup cells (``git clone``), the README, the docs and the tests
have to spell the address out (a Colab cell runs before anything is installed), so this
script keeps those copies equal to that value::

    python tools/set_repo.py alice/cartoon-gan    # a fork: rewrite pyproject and every copy
    python tools/set_repo.py --check              # exit 1 if a copy disagrees with pyproject
    python tools/set_repo.py --check alice/x      # show what the rewrite would change, write nothing

An address counts as this project's when it is a GitHub, Colab, nbviewer, Binder or raw
URL with this repository's name (``…/<owner>/cartoon-gan``), or one that points at a file in
one of this repository's folders (``…/blob/main/notebooks/01_data.ipynb``), or one that is
cloned (``clone`` on the same line); so is a ``REPO_SLUG = "<owner>/<name>"`` line in a test.
Links to other projects on GitHub are left alone (``--check`` lists them).

Exit status: 0 when nothing disagrees (or the rewrite is done), 1 when ``--check`` finds an
address that differs from the target, 2 for a usage error.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = "pyproject.toml"
SOURCE_KEY = "Repository"  # [project.urls] key that holds the one value
SOURCE_PREFIX = "https://github.com/"

# Folders that are not the project's own text: environments, build output, runs, caches.
SKIP_DIRS = {".git", ".venv", "venv", "runs", "build", "dist", "__pycache__", ".pytest_cache",
             ".ipynb_checkpoints", "node_modules"}
SKIP_PATHS = {"data/cache"}
TEXT_SUFFIXES = {".md", ".ipynb", ".py", ".toml", ".txt", ".cfg", ".ini", ".yml", ".yaml",
                 ".json", ".rst", ".sh", ".html", ""}
MAX_BYTES = 5 * 2**20

OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
NAME = r"[A-Za-z0-9_.-]*[A-Za-z0-9_-]"
SLUG = re.compile(rf"^{OWNER}/{NAME}$")
# Hosts that put "<owner>/<name>" right after their prefix.
URL = re.compile(
    r"(?P<prefix>(?:https?://)?(?:www\.)?(?:"
    r"github\.com[/:]"
    r"|colab\.research\.google\.com/github/"
    r"|raw\.githubusercontent\.com/"
    r"|nbviewer\.(?:org|jupyter\.org)/github/"
    r"|mybinder\.org/v2/gh/))"
    rf"(?P<owner>{OWNER})/(?P<name>{NAME})(?![A-Za-z0-9_.-]*[A-Za-z0-9_-])"
    r"(?P<rest>[^\s\"'<>)\]\\]*)")
ASSIGNMENT = re.compile(rf"(?P<prefix>\bREPO_SLUG\s*=\s*[\"'])(?P<owner>{OWNER})/(?P<name>{NAME})[\"']")
IN_REPO_PATH = re.compile(r"^/(?:blob|tree|raw)/[^/]+/(?P<path>[^?#]+)")


@dataclass
class Address:
    """One GitHub address found in a file."""

    path: Path      # relative to the root
    line: int       # 1-based
    slug: str       # "<owner>/<name>" as found
    text: str       # the whole match, for the report
    ours: bool      # this project's address (False: a link to another project)


def read_source(root: Path) -> str:
    """Return the "<owner>/<name>" held in pyproject.toml's [project.urls] Repository."""
    path = root / PYPROJECT
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run from the repository or pass --root")
    urls = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {}).get("urls", {})
    url = urls.get(SOURCE_KEY)
    if not isinstance(url, str) or not url.startswith(SOURCE_PREFIX):
        raise ValueError(f"{path}: [project.urls] needs {SOURCE_KEY} = \"{SOURCE_PREFIX}<owner>/<name>\", "
                         f"got {url!r}")
    slug = url[len(SOURCE_PREFIX):].removesuffix("/").removesuffix(".git")
    if not SLUG.match(slug):
        raise ValueError(f"{path}: {SOURCE_KEY} {url!r} is not {SOURCE_PREFIX}<owner>/<name>")
    return slug


def project_files(root: Path) -> list[Path]:
    """Return the text files that may hold an address, relative to root, sorted."""
    found = []
    for folder, dirs, files in os.walk(root):
        rel_folder = Path(folder).relative_to(root)
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")
                   and (rel_folder / d).as_posix() not in SKIP_PATHS
                   and not (Path(folder) / d / "pyvenv.cfg").exists()]  # any virtual env
        for name in files:
            path = Path(folder) / name
            if (path.suffix in TEXT_SUFFIXES and path.is_file() and not path.is_symlink()
                    and path.stat().st_size <= MAX_BYTES):
                found.append(rel_folder / name)
    return sorted(found)


def _is_ours(match: re.Match, source: str, root: Path, line_text: str) -> bool:
    name = match["name"].removesuffix(".git")
    if name.lower() == source.split("/")[1].lower():  # also covers the source itself
        return True
    rest = match["rest"] or ""
    inside = IN_REPO_PATH.match(rest)
    if inside:  # a file in one of this repository's folders (not README.md or LICENSE,
        path = inside["path"].rstrip("/.,;:")  # which every repository has)
        if "/" in path and (root / path).exists():
            return True
    return not rest.strip("/.,;:") and "clone" in line_text


def find_addresses(root: Path, source: str) -> list[Address]:
    """Return every GitHub address in the project's text files, marked ours or not."""
    found = []
    for rel in project_files(root):
        try:
            text = (root / rel).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line_text in enumerate(text.splitlines(), start=1):
            for pattern in (URL, ASSIGNMENT):
                for match in pattern.finditer(line_text):
                    slug = f"{match['owner']}/{match['name']}".removesuffix(".git")
                    found.append(Address(rel, number, slug, match.group(0),
                                         pattern is ASSIGNMENT or _is_ours(match, source, root, line_text)))
    return found


def rewrite_text(text: str, source: str, target: str, root: Path) -> tuple[str, int]:
    """Return text with every one of this project's addresses set to target, and the count."""
    changed = 0
    target_owner, target_name = target.split("/")

    def replace(match: re.Match, line_text: str, assignment: bool) -> str:
        nonlocal changed
        if not assignment and not _is_ours(match, source, root, line_text):
            return match.group(0)
        name = match["name"]
        git = ".git" if name.endswith(".git") else ""
        new = f"{match['prefix']}{target_owner}/{target_name}{git}"
        old = f"{match['prefix']}{match['owner']}/{name}"
        if new != old:
            changed += 1
        return new + match.group(0)[len(old):]

    lines = text.splitlines(keepends=True)
    for i, line_text in enumerate(lines):
        line_text = URL.sub(lambda m, t=line_text: replace(m, t, False), line_text)
        lines[i] = ASSIGNMENT.sub(lambda m, t=line_text: replace(m, t, True), line_text)
    return "".join(lines), changed


def set_repository(root: Path, target: str, write: bool = True) -> dict[Path, int]:
    """Point every address of the project at target; return {file: addresses changed}.

    Args:
        root: the repository (or a copy of it) holding pyproject.toml.
        target: "<owner>/<name>" on GitHub.
        write: False to change nothing and only count.
    """
    target = _as_slug(target)
    if not SLUG.match(target):
        raise ValueError(f"expected <owner>/<name> of a GitHub repository, got {target!r}")
    source = read_source(root)
    changes = {}
    for rel in project_files(root):
        path = root / rel
        try:
            with open(path, encoding="utf-8", newline="") as file:  # keep line endings as they are
                text = file.read()
        except UnicodeDecodeError:
            continue
        new_text, count = rewrite_text(text, source, target, root)
        if count:
            changes[rel] = count
            if write:
                with open(path, "w", encoding="utf-8", newline="") as file:
                    file.write(new_text)
    return changes


def _as_slug(text: str) -> str:
    """Return "<owner>/<name>" from that, or from a pasted https://github.com/<owner>/<name>(.git)."""
    text = text.strip().removesuffix("/").removesuffix(".git")
    for prefix in (SOURCE_PREFIX, "http://github.com/", "github.com/", "git@github.com:"):
        text = text.removeprefix(prefix)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/set_repo.py",
        description="Point the notebooks' Colab badges and clone URLs, the README, docs and tests "
                    "at one GitHub repository (held in pyproject.toml's [project.urls] Repository).")
    parser.add_argument("repository", nargs="?",
                        help="<owner>/<name> on GitHub (default with --check: pyproject's value)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if any address differs from the target")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this one)")
    args = parser.parse_args(argv)
    if args.repository is None and not args.check:
        parser.error("name the repository (<owner>/<name>), or pass --check")
    try:
        source = read_source(args.root)
        target = _as_slug(args.repository) if args.repository else source
        if not SLUG.match(target):
            parser.error(f"expected <owner>/<name> of a GitHub repository, got {target!r}")
        addresses = find_addresses(args.root, source)
        if args.check:
            wrong = [a for a in addresses if a.ours and a.slug.lower() != target.lower()]
            ours = sum(a.ours for a in addresses)
            for a in wrong:
                print(f"{a.path}:{a.line}: {a.text} (expected {target})")
            for a in addresses:
                if not a.ours:
                    print(f"{a.path}:{a.line}: another project, left alone: {a.text}")
            if wrong:
                print(f"{len(wrong)} of {ours} addresses differ from {target}; "
                      f"python tools/set_repo.py {target} rewrites them")
                return 1
            files = len({a.path for a in addresses if a.ours})
            print(f"all {ours} addresses in {files} files name {target}")
            return 0
        changes = set_repository(args.root, target)
    except (FileNotFoundError, ValueError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    for rel, count in changes.items():
        print(f"{rel}: {count} address{'es' if count > 1 else ''} -> {target}")
    if changes:
        print(f"{sum(changes.values())} addresses in {len(changes)} files now name {target} "
              f"(was {source}); review with git diff, then commit")
    else:
        print(f"nothing to change: every address already names {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
