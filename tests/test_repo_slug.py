"""One GitHub address: pyproject's [project.urls] Repository, copied by tools/set_repo.py.

The real tree is only read here; every rewrite runs on a copy in tmp_path.
"""
import importlib.util
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from project_files import NOTEBOOKS, ROOT

TOOL = ROOT / "tools" / "set_repo.py"
FORK = "alice-example/my-cartoon-gan"

_spec = importlib.util.spec_from_file_location("set_repo", TOOL)
set_repo = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("set_repo", set_repo)  # dataclasses look their module up there
_spec.loader.exec_module(set_repo)


def _run(*args, root=ROOT):
    return subprocess.run([sys.executable, str(TOOL), *args, "--root", str(root)],
                          capture_output=True, text=True, timeout=120)


def _source():
    url = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]["Repository"]
    return url.removeprefix("https://github.com/")


def _copy_project(destination):
    """Copy the files that hold addresses (not runs, envs or pictures) into destination."""
    for name in ("README.md", "pyproject.toml", "LICENSE"):
        shutil.copy2(ROOT / name, destination / name)
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "images", "*.png", "*.gif")
    for folder in ("notebooks", "docs", "tests", ".ci"):
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, destination / folder, ignore=ignore)
    (destination / "data").mkdir()
    shutil.copy2(ROOT / "data" / "README.md", destination / "data" / "README.md")
    return destination


def _colab(slug, notebook):
    return f"https://colab.research.google.com/github/{slug}/blob/main/notebooks/{notebook}"


def test_the_repository_is_named_once_in_pyproject():
    source = set_repo.read_source(ROOT)
    assert source == _source()
    assert set_repo.SLUG.match(source), source


def test_every_address_in_the_project_agrees_with_pyproject():
    result = _run("--check")
    assert result.returncode == 0, result.stdout + result.stderr
    source = _source()
    ours = [a for a in set_repo.find_addresses(ROOT, source) if a.ours]
    assert all(a.slug.lower() == source.lower() for a in ours)
    # The scan is not vacuous: each notebook's badge and clone, and the README's badges.
    for path in NOTEBOOKS:
        texts = [a.text for a in ours if a.path == Path("notebooks", path.name)]
        assert _colab(source, path.name) in texts, path.name
        assert f"https://github.com/{source}" in texts, f"{path.name}: no clone URL found"
    readme = [a.text for a in ours if a.path == Path("README.md")]
    assert {_colab(source, p.name) for p in NOTEBOOKS} <= set(readme)


def test_set_repo_rewrites_a_copy_for_a_fork_and_nothing_else(tmp_path):
    copy = _copy_project(tmp_path)
    source = _source()
    other = "https://github.com/" + "tensorflow/docs/blob/master/site/en/tutorials/generative/dcgan.ipynb"
    with open(copy / "README.md", "a", encoding="utf-8") as readme:
        readme.write(f"\nA link to another project stays: [DCGAN tutorial]({other}).\n")
    before = {p: p.read_text(encoding="utf-8") for p in copy.rglob("*")
              if p.is_file() and p.suffix in set_repo.TEXT_SUFFIXES}

    result = _run(FORK, root=copy)
    assert result.returncode == 0, result.stderr
    assert f"now name {FORK} (was {source})" in result.stdout

    for path, text in before.items():  # the addresses changed, and nothing else
        expected = (text.replace(f"/github/{source}/", f"/github/{FORK}/")
                    .replace(f"https://github.com/{source}", f"https://github.com/{FORK}")
                    .replace(f'REPO_SLUG = "{source}"', f'REPO_SLUG = "{FORK}"'))
        assert path.read_text(encoding="utf-8") == expected, f"{path}: changed more than its addresses"
    for path in NOTEBOOKS:
        cells = json.loads((copy / "notebooks" / path.name).read_text(encoding="utf-8"))["cells"]
        sources = ["".join(cell["source"]) for cell in cells]
        assert _colab(FORK, path.name) in sources[1]  # the badge
        assert any(f'"https://github.com/{FORK}"' in s and "clone" in s for s in sources)
        assert f"notebooks/{path.name}" in result.stdout
    readme = (copy / "README.md").read_text(encoding="utf-8")
    assert all(_colab(FORK, p.name) in readme for p in NOTEBOOKS)
    assert other in readme
    assert set_repo.read_source(copy) == FORK
    test_notebooks = (copy / "tests" / "test_notebooks.py").read_text(encoding="utf-8")
    assert f'"{source}"' not in test_notebooks

    check = _run("--check", root=copy)
    assert check.returncode == 0, check.stdout
    assert "another project, left alone" in check.stdout
    assert _run(FORK, root=copy).stdout.startswith("nothing to change")


def test_check_names_an_address_that_disagrees(tmp_path):
    copy = _copy_project(tmp_path)
    source = _source()
    notebook = copy / "notebooks" / NOTEBOOKS[0].name
    wrong = "someone-else/other-name"
    notebook.write_text(notebook.read_text(encoding="utf-8").replace(f"/github/{source}/", f"/github/{wrong}/"),
                        encoding="utf-8")
    before = notebook.read_text(encoding="utf-8")

    result = _run("--check", root=copy)
    assert result.returncode == 1
    assert f"notebooks/{NOTEBOOKS[0].name}:" in result.stdout and wrong in result.stdout
    assert f"1 of " in result.stdout and f"python tools/set_repo.py {source}" in result.stdout
    assert notebook.read_text(encoding="utf-8") == before  # --check writes nothing

    dry_run = _run("--check", FORK, root=copy)
    assert dry_run.returncode == 1 and "expected " + FORK in dry_run.stdout
    assert notebook.read_text(encoding="utf-8") == before

    assert _run(source, root=copy).returncode == 0
    assert _run("--check", root=copy).returncode == 0


@pytest.mark.parametrize("args, needle", [
    (["not-a-slug"], "<owner>/<name>"),
    ([], "name the repository"),
])
def test_usage_errors_are_one_line_with_status_2(args, needle, tmp_path):
    copy = _copy_project(tmp_path)
    result = _run(*args, root=copy)
    assert result.returncode == 2
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_a_missing_source_is_a_usage_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    result = _run("--check", root=tmp_path)
    assert result.returncode == 2
    assert "[project.urls] needs Repository" in result.stderr
