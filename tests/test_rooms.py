"""The package's rooms, read from the tree: the core, the evaluation, the conditional GAN.

The core never imports the evaluation side, the evaluation never imports the conditional
GAN or the command line, and the notebooks use only the public API: names exported by
``gan_helpers``, the evaluation's modules and ``gan_helpers.conditional``.
"""
import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gan_helpers"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, module: str | None = None) -> list[tuple[str, bool]]:
    """Every ``gan_helpers`` module ``path`` imports, as an absolute dotted name, and whether
    the import runs when the module loads (True) or only inside a function (False).
    ``module``: the file's dotted name (default: read from its place in the tree)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = (module or _module_name(path)).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names = [module] if node.module else [f"{module}.{alias.name}" for alias in node.names]
            if node.module:  # "from .core import viz" imports the module gan_helpers.core.viz
                names += [f"{module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith("gan_helpers"):
                found.append((name, id(node) in top_level))
    return found


def _room(path: Path) -> list[Path]:
    return sorted(path.glob("*.py")) if path.is_dir() else [path]


def test_the_tree_shows_the_rooms():
    top = sorted(p.name for p in PACKAGE.iterdir() if not p.name.startswith("__pycache__"))
    assert top == ["__init__.py", "__main__.py", "_tf.py", "cli.py", "conditional.py", "core",
                   "evaluation"]
    for room in ("core", "evaluation"):
        assert (PACKAGE / room / "__init__.py").is_file()
        assert not [p for p in (PACKAGE / room).iterdir() if p.is_dir() and p.name != "__pycache__"]


def test_the_checker_sees_imports_at_every_level(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from ..evaluation import metrics\nimport numpy\n\n"
                     "def f():\n    from .. import conditional\n    from .data import load_dataset\n")
    assert imports_of(probe, "gan_helpers.core.probe") == [
        ("gan_helpers.evaluation", True), ("gan_helpers.evaluation.metrics", True),
        ("gan_helpers.conditional", False), ("gan_helpers.core.data", False),
        ("gan_helpers.core.data.load_dataset", False)]


@pytest.mark.parametrize("path", _room(PACKAGE / "core"), ids=lambda p: p.name)
def test_the_core_never_imports_the_evaluation_or_the_command_line(path):
    for name, at_load in imports_of(path):
        assert not name.startswith(("gan_helpers.evaluation", "gan_helpers.cli")), (path.name, name)
        # A conditional run folder is opened by the core's one opener, which builds the
        # conditional models only when it meets one: never when the core loads.
        if name.startswith("gan_helpers.conditional"):
            assert not at_load, (path.name, name)


@pytest.mark.parametrize("path", _room(PACKAGE / "evaluation"), ids=lambda p: p.name)
def test_the_evaluation_never_imports_the_conditional_gan_or_the_command_line(path):
    for name, _ in imports_of(path):
        assert not name.startswith(("gan_helpers.conditional", "gan_helpers.cli")), (path.name, name)


def test_the_conditional_gan_never_imports_the_command_line():
    assert not [n for n, _ in imports_of(PACKAGE / "conditional.py") if n.startswith("gan_helpers.cli")]


def _notebook_code():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        yield path.name, "\n".join("".join(c["source"]) for c in cells)


PUBLIC_MODULES = {"gan_helpers", "gan_helpers.conditional", "gan_helpers.evaluation",
                  "gan_helpers.evaluation.metrics", "gan_helpers.evaluation.attributes",
                  "gan_helpers.evaluation.evaluate", "gan_helpers.evaluation.compare"}


@pytest.mark.parametrize("name,text", list(_notebook_code()), ids=lambda v: v if v.endswith("ipynb") else "")
def test_notebooks_use_only_the_public_api(name, text):
    import gan_helpers as gh

    public = set(gh.__all__)
    for used in re.findall(r"\bgh\.(\w+)", text):
        assert used in public, f"{name} uses gh.{used}, which gan_helpers does not export"
    for module, names in re.findall(r"from (gan_helpers[\w.]*) import ([\w, ()]+)", text):
        assert module in PUBLIC_MODULES, f"{name} imports from {module}"
        if module == "gan_helpers":
            for imported in (n.split(" as ")[0].strip() for n in names.strip("()").split(",")):
                assert imported in public | {"conditional", "evaluation"}, (name, imported)
        for imported in (n.strip() for n in names.strip("()").split(",")):
            assert not imported.startswith("_"), (name, module, imported)
    for dotted in re.findall(r"\bgan_helpers((?:\.\w+)+)", text):
        assert not any(part.startswith("_") for part in dotted.split(".")), (name, dotted)
        assert not dotted.startswith(".core"), f"{name} names gan_helpers{dotted}: use gh.<name>"
