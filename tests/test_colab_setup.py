"""The notebooks' Colab setup: one cell, the same in every notebook, that either gets the
runtime ready or stops with one line saying what is wrong. Colab's modules are stand-ins."""
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
from project_files import NOTEBOOKS, ROOT

import gan_helpers as gh

sys.path.insert(0, str(ROOT / "notebooks"))
import colab_setup  # noqa: E402

CLONE = "/content/cartoon-gan"


def _setup_source(path):
    return "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][3]["source"])


def _requirements_pins():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def test_every_notebook_has_the_same_setup_cell():
    sources = {path.name: _setup_source(path) for path in NOTEBOOKS}
    assert len(set(sources.values())) == 1, sorted(sources)
    assert "colab_setup.prepare()" in sources[NOTEBOOKS[0].name]


def test_colab_pins_match_requirements_and_leave_colabs_own_builds_alone():
    pins = colab_setup.read_pins()
    assert pins, "colab-requirements.txt pins nothing"
    requirements = _requirements_pins()
    for name, version in pins.items():
        assert requirements.get(name) == version, f"{name}: {version} vs requirements.txt"
    assert not set(pins) & set(colab_setup.PROTECTED)


def test_floors_are_read_from_pyproject():
    need = colab_setup.floors()
    assert need == {"python": "3.11", "tensorflow": "2.19.0", "keras": "3.10.0"}


# --- the cell itself, run with stand-ins for Colab -------------------------------------

@pytest.fixture
def colab(monkeypatch, tmp_path):
    """A pretend Colab: google.colab in sys.modules, /content/... under tmp_path, and a
    `git clone` that copies this repository's setup files (or fails, if asked)."""
    clone = tmp_path / "content" / "cartoon-gan"
    state = {"clone_fails": False, "mount_error": None, "calls": []}

    def mount(point):
        if state["mount_error"]:
            raise state["mount_error"]
        raise AssertionError("the test expected no successful mount")

    drive = types.SimpleNamespace(mount=mount)
    google = types.ModuleType("google")
    google.colab = types.ModuleType("google.colab")
    google.colab.drive = drive
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", google.colab)
    monkeypatch.setitem(sys.modules, "google.colab.drive", drive)
    monkeypatch.delitem(sys.modules, "colab_setup", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GAN_RUNS_DIR", raising=False)
    monkeypatch.delenv("GAN_CACHE_DIR", raising=False)
    monkeypatch.delenv("GAN_QUICK", raising=False)
    real_run = subprocess.run

    def run(args, **kwargs):
        state["calls"].append(list(args))
        if args[:2] == ["git", "clone"]:
            assert kwargs["env"]["GIT_TERMINAL_PROMPT"] == "0"  # never waits for a password
            if state["clone_fails"]:
                (clone / "half").mkdir(parents=True)  # what a failed clone may leave
                return subprocess.CompletedProcess(args, 128)
            for name in ("notebooks/colab_setup.py", "notebooks/colab-requirements.txt",
                         "pyproject.toml"):
                (clone / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / name, clone / name)
            return subprocess.CompletedProcess(args, 0)
        if args[0] == "nvidia-smi":
            gpu = state.get("gpu")
            return subprocess.CompletedProcess(args, 0 if gpu else 9, f"GPU 0: {gpu} (UUID: x)\n" if gpu else "", "")
        if args[1:4] == ["-m", "pip", "install"]:
            raise AssertionError("everything pinned is installed here: no pip call expected")
        return real_run(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    state["clone"] = clone
    state["source"] = _setup_source(NOTEBOOKS[0]).replace(CLONE, str(clone))
    return state


def _run_cell(source):
    namespace = {"__name__": "__main__"}
    exec(compile(source, "<setup cell>", "exec"), namespace)  # noqa: S102 - the cell under test
    return namespace


def test_the_cell_clones_checks_and_carries_on_without_drive(colab, capsys):
    colab["mount_error"] = RuntimeError("mount failed: user refused access\nmore detail")
    namespace = _run_cell(colab["source"])
    assert namespace["IS_COLAB"] is True
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("Google Drive is not mounted (mount failed: user refused access): runs "
                      "and the dataset cache stay on this runtime's disk and are lost when it "
                      "ends.")
    assert out[1] == colab_setup.NO_GPU  # a CPU runtime: quick mode is offered
    assert out[2].startswith("Colab ready: Python ") and "on this runtime only" in out[2]
    assert Path.cwd() == colab["clone"] / "notebooks"
    assert [c[:2] for c in colab["calls"]] == [["git", "clone"], ["nvidia-smi", "-L"]]
    # the clone is there now: running the cell again does not clone again
    colab["calls"].clear()
    _run_cell(colab["source"])
    assert colab["calls"] == [["nvidia-smi", "-L"]]


@pytest.mark.parametrize("gpu, quick", [("Tesla T4", False), (None, True)])
def test_quick_mode_is_offered_only_without_a_gpu_and_without_quick(colab, capsys, gpu, quick):
    colab["gpu"], colab["mount_error"] = gpu, OSError("no Drive")
    source = colab["source"]
    if quick:
        source = source.replace("QUICK = False", "QUICK = True")
    _run_cell(source)
    assert colab_setup.NO_GPU not in capsys.readouterr().out
    assert (os.environ.get("GAN_QUICK") == "1") is quick


def test_a_failed_clone_says_how_to_point_the_cell_at_a_fork(colab):
    colab["clone_fails"] = True
    with pytest.raises(SystemExit, match=r"^Could not clone https://github\.com/.*set REPO in "
                                         r"this cell to its address"):
        _run_cell(colab["source"])
    # the next try starts from a clean folder, not from what the failed clone left
    colab["clone_fails"] = False
    colab["mount_error"] = OSError("no Drive")
    _run_cell(colab["source"])
    assert not (colab["clone"] / "half").exists()


def test_without_colab_the_cell_only_sets_is_colab(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    namespace = _run_cell(_setup_source(NOTEBOOKS[0]))
    assert namespace["IS_COLAB"] is False


# --- the refusals ------------------------------------------------------------------------

def _versions(monkeypatch, **versions):
    monkeypatch.setattr(colab_setup, "installed_version", lambda name: versions.get(name))


def test_a_tpu_runtime_without_tensorflow_is_refused_in_one_line(monkeypatch):
    _versions(monkeypatch, keras="3.13.2")
    with pytest.raises(colab_setup.SetupError) as caught:
        colab_setup.check_versions()
    assert "has no TensorFlow (Colab's TPU runtimes have none)" in str(caught.value)
    lines = caught.value._render_traceback_()
    assert len(lines) == 1 and lines[0].startswith("Setup stopped: this runtime has no TensorFlow")


@pytest.mark.parametrize("versions, python, message", [
    ({"tensorflow": "2.18.1", "keras": "3.13.2"}, None, "tensorflow 2.18.1 is older than the 2.19.0"),
    ({"tensorflow": "2.20.0", "keras": "3.8.0"}, None, "keras 3.8.0 is older than the 3.10.0"),
    ({"tensorflow": "2.20.0", "keras": "3.13.2"}, "3.10.12", "Python 3.10.12 is older than the 3.11"),
])
def test_versions_below_the_floor_are_refused(monkeypatch, versions, python, message):
    _versions(monkeypatch, **versions)
    with pytest.raises(colab_setup.SetupError, match=message):
        colab_setup.check_versions(python_version=python)


def test_colabs_own_versions_pass():
    _versions_now = colab_setup.check_versions(python_version="3.13.15")
    assert _versions_now == gh.tf.__version__


def _fake_install(monkeypatch, before, after, imported, returncode=0, stderr=""):
    snapshots = iter([before, after])
    monkeypatch.setattr(colab_setup, "_distributions", lambda: dict(next(snapshots)))
    monkeypatch.setattr(colab_setup, "_imported_distributions", lambda: set(imported))
    seen = {}

    def run(args, **kwargs):
        seen["args"] = args
        seen["constraints"] = Path(args[args.index("-c") + 1]).read_text(encoding="utf-8")
        return subprocess.CompletedProcess(args, returncode, "", stderr)

    return run, seen


COLAB = {"tensorflow": "2.20.0", "keras": "3.13.2", "numpy": "2.1.3", "ipykernel": "6.17.1",
         "pillow": "11.3.0"}


def test_install_keeps_colabs_builds_and_asks_no_restart_for_new_packages(monkeypatch):
    after = {**COLAB, "resvg-py": "0.5.0"}
    run, seen = _fake_install(monkeypatch, COLAB, after, imported={"numpy", "pillow"})
    assert colab_setup.install_pins({"resvg-py": "0.5.0"}, run=run) == []
    assert seen["args"][-1] == "resvg-py==0.5.0"
    assert seen["constraints"].splitlines() == [
        "tensorflow==2.20.0", "keras==3.13.2", "numpy==2.1.3", "ipykernel==6.17.1"]


def test_install_that_changed_an_imported_package_asks_for_a_restart(monkeypatch):
    after = {**COLAB, "pillow": "12.0.0", "dicebear-core": "10.7.0"}
    run, _ = _fake_install(monkeypatch, COLAB, after, imported={"pillow"})
    monkeypatch.setattr(colab_setup, "check_versions", lambda: "2.20.0")
    monkeypatch.setattr(colab_setup, "read_pins", lambda: {"dicebear-core": "10.7.0"})
    with pytest.raises(colab_setup.SetupError, match=r"changed pillow, which this runtime had "
                                                     r"already imported: choose Runtime → "
                                                     r"Restart session"):
        colab_setup.prepare(use_drive=False, run=run)


def test_a_failed_install_names_pips_reason(monkeypatch):
    run, _ = _fake_install(monkeypatch, COLAB, COLAB, imported=(), returncode=1,
                           stderr="Collecting x\nERROR: No matching distribution found for resvg-py==0.5.0\n")
    with pytest.raises(colab_setup.SetupError, match=r"pip could not install resvg-py==0\.5\.0: "
                                                     r"ERROR: No matching distribution"):
        colab_setup.install_pins({"resvg-py": "0.5.0"}, run=run)


def test_nothing_is_installed_when_every_pin_is_there(monkeypatch):
    monkeypatch.setattr(colab_setup, "_distributions", lambda: {**COLAB, "resvg-py": "0.5.0"})

    def run(*args, **kwargs):
        raise AssertionError("pip must not run")

    assert colab_setup.install_pins({"resvg-py": "0.5.0"}, run=run) == []


def test_pins_may_not_name_colabs_own_builds():
    with pytest.raises(colab_setup.SetupError, match="must not pin numpy"):
        colab_setup.install_pins({"numpy": "2.4.6"})


# --- Google Drive: one folder for every notebook's runs and cache -----------------------

def test_drive_holds_the_runs_and_the_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("GAN_RUNS_DIR", raising=False)
    monkeypatch.delenv("GAN_CACHE_DIR", raising=False)
    mounted = []
    folder = colab_setup.mount_drive(mount=mounted.append, folder=str(tmp_path / "MyDrive/gan"))
    assert mounted == [colab_setup.DRIVE_MOUNT] and folder == tmp_path / "MyDrive/gan"
    assert gh.runs_dir() == folder / "runs" and (folder / "runs").is_dir()
    from gan_helpers.core.data import default_cache_dir
    assert default_cache_dir() == folder / "cache"


def test_without_drive_runs_stay_beside_the_notebooks(monkeypatch, capsys):
    monkeypatch.delenv("GAN_RUNS_DIR", raising=False)

    def refuse(point):
        raise ValueError("mount failed")

    assert colab_setup.mount_drive(mount=refuse) is None
    assert "Google Drive is not mounted (mount failed)" in capsys.readouterr().out
    assert gh.runs_dir() == Path("../runs")
