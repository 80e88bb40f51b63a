"""The committed notebooks themselves: structure, clean stored outputs, a real run.

(Executing them is nbval's job: ``pytest`` collects ``notebooks/*.ipynb`` with --nbval-lax.)
"""
import json
import re
import tomllib

import pytest
from project_files import NOTEBOOKS, ROOT, TF_LOG_NOISE

# The repository's address lives in pyproject.toml; tools/set_repo.py rewrites its copies.
REPO_SLUG = tomllib.loads((ROOT / "pyproject.toml").read_text(
    encoding="utf-8"))["project"]["urls"]["Repository"].removeprefix("https://github.com/")
NOISE = re.compile(TF_LOG_NOISE.pattern + "|Traceback")  # and no error printed as text
MACHINE_PATHS = re.compile(r"/work/|/root/|/home/\w+|/tmp/|site-packages")


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell):
    return "".join(cell["source"])


def test_the_series_exists():
    assert len(NOTEBOOKS) >= 5
    numbers = [p.name[:2] for p in NOTEBOOKS]
    assert numbers == sorted(set(numbers))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_opens_with_title_badge_and_setup(path):
    cells = _load(path)["cells"]
    assert cells[0]["cell_type"] == "markdown" and _source(cells[0]).startswith(f"# {path.name[:2]} · ")
    badge = f"https://colab.research.google.com/github/{REPO_SLUG}/blob/main/notebooks/{path.name}"
    assert badge in _source(cells[1])
    assert _source(cells[2]).strip() == "## Setup"
    setup = _source(cells[3])
    assert 'IS_COLAB = "google.colab" in sys.modules' in setup
    assert "tensorflow" not in setup.split("never TensorFlow")[-1].lower()  # never reinstalled
    config_cells = [c for c in cells if c["cell_type"] == "code" and "quick_value" in _source(c)]
    assert len(config_cells) >= 1, "one configuration cell shows the quick-mode switch"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_are_a_clean_real_run(path):
    nb = _load(path)
    assert nb["metadata"].get("accelerator") == "GPU"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        for output in cell["outputs"]:
            assert output["output_type"] != "error", _source(cell)[:80]
            if output["output_type"] == "stream":
                text = "".join(output["text"])
                assert output["name"] != "stderr" or not text.strip(), text[:200]
                assert not NOISE.search(text), text[:200]
                assert not MACHINE_PATHS.search(text), text[:200]
                assert "\r" not in text
            # a progress-bar widget stores only its first frame, "0%|": execute.py drops it
            assert not ("application/vnd.jupyter.widget-view+json" in output.get("data", {})
                        and "%|" in "".join(output["data"].get("text/plain", ""))), _source(cell)[:80]
            for value in output.get("data", {}).values():
                if isinstance(value, (str, list)) and "image/" not in str(value)[:20]:
                    joined = "".join(value) if isinstance(value, list) else value
                    assert not MACHINE_PATHS.search(joined), joined[:200]
    printed = "".join("".join(o.get("text", "")) for c in code for o in c["outputs"])
    assert "quick mode: False" in printed, "committed outputs must come from a real (not quick) run"


# What a static viewer prints where it cannot show a display object: its repr.
BARE_REPR = re.compile(r"(<|&lt;)(IPython\.core\.display\.|Figure size )|object at 0x")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_html_export_shows_pictures_not_object_reprs(path):
    """``jupyter nbconvert --to html`` (no execution) shows every stored picture.

    An output whose only form the exporter can render is ``text/plain`` (an ``image/gif``
    display, a figure saved without its PNG) comes out as ``<IPython.core.display.Image
    object>`` or ``<Figure size …>``; GitHub and other static viewers fall back the same way.
    """
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_markdown=True)  # the outputs alone
    body, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4))
    bare = [body[max(0, m.start() - 100):m.end() + 60] for m in BARE_REPR.finditer(body)]
    assert not bare, f"{len(bare)} output(s) show a repr instead of a picture: {bare[0]}"


def test_readme_lists_every_notebook_with_a_colab_badge():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        assert f"](notebooks/{path.name})" in readme, path.name
        assert f"colab.research.google.com/github/{REPO_SLUG}/blob/main/notebooks/{path.name}" in readme


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "GAN_QUICK=1 .venv/bin/python -m pytest" in readme
    assert "-r requirements.txt -e ." in readme and "-r requirements.txt -e ." in ci
    assert "GAN_QUICK=1 python -m pytest" in ci  # the same command, inside the activated .venv


def test_executing_a_notebook_fails_on_tensorflow_log_noise_in_any_cell(tmp_path):
    """notebooks/conftest.py: a cell that writes a TensorFlow log line to stderr fails under
    nbval even though --nbval-lax does not compare its output; a clean cell passes."""
    import shutil
    import subprocess
    import sys

    import nbformat

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "tests").mkdir()
    shutil.copy(ROOT / "notebooks" / "conftest.py", tmp_path / "notebooks")
    shutil.copy(ROOT / "tests" / "project_files.py", tmp_path / "tests")
    header = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print('clean')"),
        nbformat.v4.new_code_cell(f"import sys\nprint({header!r}, file=sys.stderr)"),
    ])
    nbformat.write(nb, tmp_path / "notebooks" / "noisy.ipynb")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
         "--nbval-lax", "--rootdir", str(tmp_path), str(tmp_path / "notebooks" / "noisy.ipynb")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert "1 failed, 1 passed" in result.stdout, result.stdout[-2000:]
    assert "TensorFlow log noise in this cell's output" in result.stdout
