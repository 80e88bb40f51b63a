"""Get a Google Colab runtime ready for the notebooks, or say in one line why it cannot be.

Every notebook's setup cell clones the repository and then calls :func:`prepare`. On a
local machine (``pip install -r requirements.txt -e .``) nothing here runs.

What :func:`prepare` does, in order, stopping at the first thing that is wrong:

1. checks the Python and TensorFlow versions against the floors in ``pyproject.toml``
   (and that there is a TensorFlow at all: Colab's TPU runtimes have none);
2. installs the few packages Colab lacks, pinned in ``colab-requirements.txt`` beside
   this file, never replacing Colab's TensorFlow, Keras, NumPy or ipykernel; only when
   the install changed a package this runtime had already imported does it ask for a
   restart;
3. mounts Google Drive and keeps the runs and the dataset cache in one folder there,
   :data:`DRIVE_FOLDER`, so no notebook redoes another's work and a disconnect loses
   nothing; without Drive it says so and carries on on the runtime's own disk;
4. without a GPU, offers quick mode (the setup cell's ``QUICK``).

Only the standard library is used: this runs before anything is installed.
"""
from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PINS = HERE / "colab-requirements.txt"
PYPROJECT = HERE.parent / "pyproject.toml"

DRIVE_MOUNT = "/content/drive"
# The one folder on your Drive that holds every notebook's runs and the dataset cache.
DRIVE_FOLDER = f"{DRIVE_MOUNT}/MyDrive/cartoon-gan"
# What Colab ships and the notebooks must keep: replacing them breaks the runtime.
PROTECTED = ("tensorflow", "keras", "numpy", "ipykernel")


class SetupError(Exception):
    """Something the notebooks need is missing; the message says what to do.

    In a notebook it shows as one line, without a traceback.
    """

    def _render_traceback_(self):  # IPython shows this instead of a traceback
        return [f"Setup stopped: {self}"]


def _version_tuple(text: str) -> tuple[int, ...]:
    """``"2.20.0rc1"`` -> ``(2, 20, 0)``: the leading numbers of a version."""
    numbers = []
    for part in text.split("."):
        match = re.match(r"\d+", part)
        if not match:
            break
        numbers.append(int(match.group()))
    return tuple(numbers)


def floors(pyproject: Path = PYPROJECT) -> dict[str, str]:
    """The oldest supported versions, from ``pyproject.toml``: ``python``, ``tensorflow``
    and ``keras`` (e.g. ``{"python": "3.11", "tensorflow": "2.19.0", ...}``)."""
    text = pyproject.read_text(encoding="utf-8")
    found = {"python": re.search(r'requires-python\s*=\s*">=\s*([\d.]+)"', text)}
    for name in ("tensorflow", "keras"):
        found[name] = re.search(rf'"{name}\s*>=\s*([\d.]+)', text)
    missing = [name for name, match in found.items() if not match]
    if missing:
        raise SetupError(f"{pyproject} names no floor for {', '.join(missing)}")
    return {name: match.group(1) for name, match in found.items()}


def installed_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or None."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_versions(pyproject: Path = PYPROJECT, python_version=None) -> str:
    """Refuse a runtime the notebooks cannot run on; return its TensorFlow version.

    Raises:
        SetupError: Python below the floor, no TensorFlow (a TPU runtime), or a TensorFlow
            or Keras below the floor.
    """
    need = floors(pyproject)
    python_version = python_version or ".".join(map(str, sys.version_info[:3]))
    if _version_tuple(python_version) < _version_tuple(need["python"]):
        raise SetupError(f"Python {python_version} is older than the {need['python']} these "
                         f"notebooks need: choose a newer runtime (Runtime → Change runtime type)")
    tensorflow = installed_version("tensorflow") or installed_version("tensorflow-cpu")
    if tensorflow is None:
        raise SetupError("this runtime has no TensorFlow (Colab's TPU runtimes have none): "
                         "choose Runtime → Change runtime type → T4 GPU (or CPU), then run "
                         "this cell again")
    for name, version in (("tensorflow", tensorflow), ("keras", installed_version("keras"))):
        if version is None or _version_tuple(version) < _version_tuple(need[name]):
            raise SetupError(f"{name} {version} is older than the {need[name]} these notebooks "
                             f"need: choose a newer runtime version (Tools → Settings) or run "
                             f"them locally with requirements.txt")
    return tensorflow


def read_pins(path: Path = PINS) -> dict[str, str]:
    """``name==version`` lines of ``path`` as ``{name: version}`` (comments skipped)."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise SetupError(f"{path}: {line!r} is not pinned as name==version")
        pins[name.strip().lower()] = version.strip()
    return pins


def _distributions() -> dict[str, str]:
    return {dist.metadata["Name"].lower().replace("_", "-"): dist.version
            for dist in importlib.metadata.distributions() if dist.metadata["Name"]}


def _imported_distributions() -> set[str]:
    """Distributions with a module that this process has already imported."""
    imported = {name.split(".", 1)[0] for name in sys.modules}
    owners = importlib.metadata.packages_distributions()
    return {dist.lower().replace("_", "-") for module in imported for dist in owners.get(module, ())}


def install_pins(pins: dict[str, str], run=subprocess.run) -> list[str]:
    """Install what ``pins`` asks for and is not installed yet; keep :data:`PROTECTED` as is.

    Returns:
        The distributions the install changed that this runtime had already imported:
        only these need a restart.

    Raises:
        SetupError: pip failed (its last line says why), or a pin names a protected package.
    """
    protected = sorted(set(pins) & set(PROTECTED))
    if protected:
        raise SetupError(f"{PINS.name} must not pin {', '.join(protected)}: Colab's own build "
                         f"has to stay")
    before = _distributions()
    wanted = [f"{name}=={version}" for name, version in pins.items()
              if before.get(name.replace("_", "-")) != version]
    if not wanted:
        return []
    # Constraints hold Colab's TensorFlow, Keras, NumPy and ipykernel where they are: a pin
    # that needed another version of one of them fails instead of replacing it.
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as keep:
        keep.writelines(f"{name}=={before[name]}\n" for name in PROTECTED if name in before)
    try:
        result = run([sys.executable, "-m", "pip", "install", "-q", "-c", keep.name, *wanted],
                     capture_output=True, text=True)
    finally:
        os.unlink(keep.name)
    if result.returncode != 0:
        lines = [line for line in (result.stderr or "").splitlines() if line.strip()]
        raise SetupError(f"pip could not install {' '.join(wanted)}: "
                         f"{lines[-1] if lines else 'exit code ' + str(result.returncode)}")
    after = _distributions()
    changed = {name for name, version in before.items() if after.get(name) != version}
    return sorted(changed & _imported_distributions())


def mount_drive(mount=None, folder: str = DRIVE_FOLDER) -> Path | None:
    """Mount Google Drive and point the runs and the dataset cache at ``folder`` on it.

    Sets ``GAN_RUNS_DIR`` (``folder/runs``) and ``GAN_CACHE_DIR`` (``folder/cache``), the
    two settings gan_helpers reads. When Drive cannot be mounted, says so in one line and
    leaves both unset: runs and the cache stay on the runtime's disk.

    Returns:
        ``folder`` as a Path, or None without Drive.
    """
    try:
        if mount is None:
            from google.colab import drive

            mount = drive.mount
        mount(DRIVE_MOUNT)
        Path(folder, "runs").mkdir(parents=True, exist_ok=True)
        Path(folder, "cache").mkdir(parents=True, exist_ok=True)
    except Exception as error:  # noqa: BLE001 - any failure means "no Drive", said once
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"Google Drive is not mounted ({reason}): runs and the dataset cache stay on "
              f"this runtime's disk and are lost when it ends.")
        return None
    os.environ["GAN_RUNS_DIR"] = f"{folder}/runs"
    os.environ["GAN_CACHE_DIR"] = f"{folder}/cache"
    return Path(folder)


def has_gpu(run=subprocess.run) -> bool:
    """True when ``nvidia-smi -L`` lists a GPU (Colab's GPU runtimes have it; its CPU and
    TPU runtimes do not). TensorFlow is not imported for this."""
    try:
        result = run(["nvidia-smi", "-L"], capture_output=True, text=True)
    except OSError:
        return False
    return result.returncode == 0 and "GPU" in (result.stdout or "")


NO_GPU = ("No GPU on this runtime: notebooks 05, 07 and 08 train for a long time on its CPU "
          "(their first cells say how long). Choose Runtime → Change runtime type → T4 GPU, "
          "or set QUICK = True in the setup cell for a short run of every step.")


def prepare(use_drive: bool = True, mount=None, run=subprocess.run) -> Path | None:
    """Check the runtime, install what Colab lacks, mount Drive; see the module docstring.

    Args:
        use_drive: keep runs and the dataset cache on Google Drive.
        mount, run: stand-ins for ``google.colab.drive.mount`` and ``subprocess.run``
            (tests).

    Returns:
        The Drive folder in use, or None.

    Raises:
        SetupError: one line saying what is wrong and what to do.
    """
    tensorflow = check_versions()
    changed = install_pins(read_pins(), run=run)
    if changed:
        raise SetupError(f"the install changed {', '.join(changed)}, which this runtime had "
                         f"already imported: choose Runtime → Restart session, then run all "
                         f"cells again")
    folder = mount_drive(mount) if use_drive else None
    if not has_gpu(run) and os.environ.get("GAN_QUICK") != "1":
        print(NO_GPU)
    print(f"Colab ready: Python {sys.version.split()[0]}, TensorFlow {tensorflow}, runs and "
          f"cache {'in ' + str(folder) if folder else 'on this runtime only'}")
    return folder
