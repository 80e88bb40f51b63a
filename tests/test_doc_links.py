"""Every link between the project's own pages (README, docs/, data/, research/ and the
notebooks) resolves: the file exists and, where the link names a heading
(``page.md#heading``), the page has that heading, spelled as GitHub spells its anchors.
Links to the web are not followed (no network in CI)."""
import functools
import json
import re
from pathlib import Path

import pytest
from project_files import NOTEBOOKS, ROOT

PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "data").glob("*.md"),
                *(ROOT / "research").glob("*.md")])
LINK = re.compile(r"\]\(([^()\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.M)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped
    (letters of any script, digits, '_' and '-' kept), spaces turned into '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """All anchors of a page; a repeated heading gets -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(FENCE.sub("", markdown)):
        anchor = github_anchor(heading)
        if anchor in seen:
            seen[anchor] += 1
            anchor = f"{anchor}-{seen[anchor]}"
        else:
            seen[anchor] = 0
        out.add(anchor)
    return out


def local_links(markdown: str) -> list[str]:
    """Links outside fenced code that point into the repository, not to the web."""
    return [link for link in LINK.findall(FENCE.sub("", markdown))
            if not re.match(r"[a-z][a-z0-9+.-]*:", link)]


def markdown_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n\n".join("".join(cell["source"]) for cell in cells
                           if cell["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=None)
def page_anchors(page: Path) -> frozenset[str]:
    """A page's anchors, read and parsed once however many links point into it."""
    return frozenset(anchors(markdown_of(page)))


def shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def broken_links(path: Path) -> list[str]:
    problems = []
    for link in local_links(markdown_of(path)):
        target, _, anchor = link.partition("#")
        page = (path.parent / target).resolve() if target else path
        if not page.exists():
            problems.append(f"{link}: no file {shown(page)}")
        elif anchor and page.suffix == ".md" and anchor not in page_anchors(page):
            problems.append(f"{link}: no heading with that anchor in {shown(page)}")
    return problems


def test_github_anchors_of_headings_like_these_pages():
    assert github_anchor("Adam β1 0 at the full budget, and fewer faces (2026-12-06, late)") == \
        "adam-β1-0-at-the-full-budget-and-fewer-faces-2026-12-06-late"
    assert github_anchor("A long run of `cartoon-v3` on an H200") == "a-long-run-of-cartoon-v3-on-an-h200"
    assert anchors("# Notes\n## Notes\n```\n# not a heading\n```\n") == {"notes", "notes-1"}


def test_the_checker_finds_a_broken_anchor_and_a_missing_file(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Here\n[ok](#here) [bad](#there) [gone](other.md) [web](https://example.org)\n"
                    "```\n[in code](#nowhere)\n```\n", encoding="utf-8")
    problems = broken_links(page)
    assert len(problems) == 2
    assert problems[0].startswith("#there") and problems[1].startswith("other.md")


@pytest.mark.parametrize("path", PAGES + NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_between_the_projects_pages_resolves(path):
    assert broken_links(path) == []
