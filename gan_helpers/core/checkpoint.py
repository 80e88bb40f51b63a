"""Atomic checkpoints: a run can be killed at any moment and resumed from the last good one.

A checkpoint is a folder ``checkpoints/ckpt-<step>`` written under a temporary name and
renamed into place; the pointer file ``checkpoints/latest`` is replaced atomically
after the rename, so on a local disk "latest" always names a complete checkpoint.

On Google Drive it may not: a new runtime can see a folder before all its files have
arrived (uploads are asynchronous, and a runtime that died mid-upload leaves files missing
or short). So each checkpoint holds a manifest, ``manifest.json``, written last: every
other file's size and SHA-256. :func:`latest_checkpoint` only returns a checkpoint whose
files all match it, falling back to the newest earlier one that does.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

# write_text_atomic: importable from here too, its home before gan_helpers.core.files
from .files import fsync_file, umask, write_text_atomic

LATEST = "latest"
KEEP = 2  # whole checkpoints kept on disk: the newest and the one to fall back to
MANIFEST = "manifest.json"
# The files of every checkpoint; one without a manifest (written before 2026-12-07) is
# whole when these all exist.
FILES = ("generator.weights.h5", "discriminator.weights.h5", "d_optimizer.npz",
         "g_optimizer.npz", "arrays.npz", "state.json")
DRIVE_MOUNT = Path("/content/drive")  # where Colab mounts Google Drive (drive.mount)
_CHECKPOINT = re.compile(r"ckpt-(\d+)")


def _inner(optimizer):
    """The optimiser that holds the training state: under ``mixed_float16`` Keras wraps it
    in a LossScaleOptimizer, whose own loss scale is not saved (it adapts again within a
    few steps), so a run can change precision when it resumes."""
    return getattr(optimizer, "inner_optimizer", optimizer)


_POSITIONAL = re.compile(r"\d{4}")  # the keys of checkpoints before 2026-11-26: "0000", ...


def optimizer_state(optimizer) -> dict[str, np.ndarray]:
    """Every variable of a built Keras optimiser, by name (Adam: ``iteration``,
    ``learning_rate``, then ``<model>_<layer>_<weight>_momentum`` / ``_velocity``).

    The names are stable because every layer of :mod:`gan_helpers.core.models` is named (Keras'
    own names carry process-wide counters); should two variables still share a name (a
    model of your own with duplicate layer names), the state is keyed by position instead.
    """
    variables = _inner(optimizer).variables
    names = [v.name for v in variables]
    if len(set(names)) < len(names) or any(_POSITIONAL.fullmatch(n) for n in names):
        names = [f"{i:04d}" for i in range(len(variables))]
    return {name: np.asarray(v.numpy()) for name, v in zip(names, variables)}


def restore_optimizer_state(optimizer, variables, state: dict[str, np.ndarray], what: str) -> None:
    """Build ``optimizer`` for ``variables`` and load the arrays of :func:`optimizer_state`,
    matched by name (or by position, for checkpoints saved that way).

    The learning rate is not loaded: the optimiser keeps the one it was built with (the
    run's configuration), so ``--resume --lr-d`` / ``--lr-g`` take effect. Until 2026-11-26
    the saved rate was loaded over it and such a change was printed but ignored."""
    if not optimizer.built:
        optimizer.build(variables)
    targets = _inner(optimizer).variables
    if len(state) != len(targets):
        raise ValueError(
            f"checkpoint's {what} optimiser has {len(state)} variables, the model needs "
            f"{len(targets)}: the checkpoint is from a different configuration (a run saved "
            f"with mixed_float16 before 2026-11-25 can only resume with mixed_float16)")
    if all(_POSITIONAL.fullmatch(key) for key in state):
        pairs = list(zip(sorted(state), targets))
    else:
        missing = [v.name for v in targets if v.name not in state]
        if missing:
            raise ValueError(f"checkpoint's {what} optimiser has no variable {missing[0]!r}: "
                             f"it was saved for a model whose layers are named differently")
        pairs = [(v.name, v) for v in targets]
    for key, variable in pairs:
        if variable.name == "learning_rate":
            continue
        value = state[key]
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(
                f"checkpoint's {what} optimiser variable {key} has shape {value.shape}, "
                f"the model needs {tuple(variable.shape)}: different image or latent size?")
        variable.assign(value)


def _skip_optimizer(model) -> list:
    return [model.optimizer] if getattr(model, "optimizer", None) is not None else []


def save_model_weights(model, path) -> None:
    """``model.save_weights`` without the optimiser a compiled model would add to the file:
    the optimiser state has a file of its own (:func:`optimizer_state`), kept once."""
    from keras.src.saving import saving_lib  # objects_to_skip: Keras >= 3.10 (tested)

    saving_lib.save_weights_only(model, str(path), objects_to_skip=_skip_optimizer(model))


def load_model_weights(model, path) -> None:
    """Load a file of :func:`save_model_weights`; one written by ``model.save_weights``
    (checkpoints before 2026-11-25, with an optimiser copy inside) loads too: the copy is
    skipped."""
    from keras.src.saving import saving_lib

    saving_lib.load_weights_only(model, str(path), objects_to_skip=_skip_optimizer(model))


def save_checkpoint(checkpoint_dir, step: int, generator, discriminator, gan,
                    state: dict, arrays: dict[str, np.ndarray]) -> Path:
    """Write a complete checkpoint for ``step`` and point ``latest`` at it.

    The files are written into a temporary folder, then ``manifest.json`` (every other
    file's size and SHA-256) last; the folder is renamed into place, ``latest`` replaced,
    and older checkpoints pruned (:data:`KEEP` whole ones stay).

    Args:
        checkpoint_dir: the run's ``checkpoints`` folder.
        step: global iteration count (names the folder).
        generator, discriminator, gan: the models; the optimisers are D's and gan's.
        state: JSON-serialisable counters, RNG state, history, config.
        arrays: NumPy arrays to keep (e.g. ``fixed_noise``).

    Returns:
        The checkpoint folder.
    """
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    final = checkpoint_dir / f"ckpt-{step:08d}"
    tmp = Path(tempfile.mkdtemp(dir=checkpoint_dir, prefix=".writing-"))
    try:
        os.chmod(tmp, 0o777 & ~umask())  # mkdtemp makes 0700
        save_model_weights(generator, tmp / "generator.weights.h5")
        save_model_weights(discriminator, tmp / "discriminator.weights.h5")
        np.savez(tmp / "d_optimizer.npz", **optimizer_state(discriminator.optimizer))
        np.savez(tmp / "g_optimizer.npz", **optimizer_state(gan.optimizer))
        np.savez(tmp / "arrays.npz", **arrays)
        # "manifest": should the manifest not arrive, the checkpoint is incomplete, not old
        (tmp / "state.json").write_text(json.dumps({**state, "manifest": MANIFEST}),
                                        encoding="utf-8")
        _write_manifest(tmp)
        for file in tmp.iterdir():  # flush data before the rename makes it visible
            fsync_file(file)
        if final.exists():
            _remove_tree(final)
        os.replace(tmp, final)
    except BaseException:
        _remove_tree(tmp, ignore_errors=True)
        raise
    write_text_atomic(checkpoint_dir / LATEST, final.name + "\n")
    _prune(checkpoint_dir, keep=final.name)
    return final


def _sha256(path: Path) -> str:
    """The SHA-256 of a file, in hex, read a MiB at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_manifest(folder: Path) -> None:
    """Write ``folder/manifest.json``: the size in bytes and SHA-256 of every other file."""
    files = {file.name: {"bytes": file.stat().st_size, "sha256": _sha256(file)}
             for file in sorted(folder.iterdir()) if file.name != MANIFEST}
    (folder / MANIFEST).write_text(json.dumps({"files": files}, indent=1), encoding="utf-8")


def _incomplete(folder: Path) -> str | None:
    """Why ``folder`` is not a whole checkpoint (e.g. ``"arrays.npz is missing"``), or None.

    With a manifest, every file it lists must be there with its size and SHA-256 (the
    sizes are compared first: they cost nothing). Without one, a checkpoint from before
    manifests is whole when its six :data:`FILES` exist; one whose ``state.json`` says it
    has a manifest is not.
    """
    if not folder.is_dir():
        return "the folder is missing"
    manifest = folder / MANIFEST
    if not manifest.is_file():
        missing = [name for name in ("state.json", *FILES) if not (folder / name).is_file()]
        if missing:
            return f"{missing[0]} is missing"
        try:
            state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return "state.json is unreadable"
        written_with_one = isinstance(state, dict) and "manifest" in state
        return f"{MANIFEST} is missing" if written_with_one else None
    try:
        listed = {name: (int(entry["bytes"]), str(entry["sha256"])) for name, entry in
                  json.loads(manifest.read_text(encoding="utf-8"))["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return f"{MANIFEST} is unreadable"
    unlisted = [name for name in FILES if name not in listed]
    if unlisted:
        return f"{MANIFEST} does not list {unlisted[0]}"
    for name, (size, _) in listed.items():
        try:
            found = (folder / name).stat().st_size
        except OSError:
            return f"{name} is missing"
        if found != size:
            return f"{name}: {found:,} of {size:,} bytes"
    for name, (_, sha256) in listed.items():
        try:
            if _sha256(folder / name) != sha256:
                return f"{name} does not match its checksum"
        except OSError as error:
            return f"{name} is unreadable ({error.strerror or error})"
    return None


def _step(name: str) -> int | None:
    """The step of a checkpoint folder's name (``ckpt-00000040`` -> 40), or None."""
    match = _CHECKPOINT.fullmatch(name)
    return int(match.group(1)) if match else None


def _checkpoint_folders(checkpoint_dir: Path) -> list[Path]:
    """The ``ckpt-<step>`` folders, newest first (whole or not)."""
    if not checkpoint_dir.is_dir():
        return []
    found = [(_step(p.name), p) for p in checkpoint_dir.iterdir()]
    return [p for step, p in sorted(found, key=lambda pair: pair[0] or 0, reverse=True)
            if step is not None and p.is_dir()]


def _remove_tree(path, ignore_errors: bool = False) -> None:
    """Delete a folder, emptying each file before it is deleted.

    A file deleted on a Google Drive mount goes to Drive's trash, where it still counts
    against the owner's quota (about 22 MB a checkpoint, every pruned checkpoint, for
    30 days); emptied first, what lands there is zero bytes. Elsewhere it costs nothing.
    Symbolic links are deleted, never followed. ``ignore_errors`` as in ``shutil.rmtree``.
    """
    def attempt(action, target):
        try:
            action(target)
        except OSError:
            if not ignore_errors:
                raise

    if os.path.islink(path):  # a link to a folder: the link goes, the folder stays
        attempt(os.unlink, path)
        return
    for root, folders, files in os.walk(path, topdown=False):  # follows no links
        for name in files:
            attempt(_empty_and_delete, os.path.join(root, name))
        for name in folders:
            folder = os.path.join(root, name)
            attempt(os.unlink if os.path.islink(folder) else os.rmdir, folder)
    attempt(os.rmdir, path)


def _empty_and_delete(file: str) -> None:
    """Truncate ``file`` to zero bytes (flushed, so Drive uploads the empty version) and
    delete it. The truncation is best effort: a file that cannot be opened for writing
    (read-only) is still deleted."""
    if not os.path.islink(file):
        try:
            with open(file, "r+b") as handle:
                handle.truncate(0)
                os.fsync(handle.fileno())
        except OSError:
            pass
    os.unlink(file)


def _prune(checkpoint_dir: Path, keep: str) -> None:
    """Delete the checkpoints before ``keep`` but the newest whole ones, so that ``keep``
    and the checkpoint :func:`latest_checkpoint` would fall back to stay (:data:`KEEP`
    whole ones in all), and the temporary folders of interrupted writes.

    Incomplete checkpoints before ``keep`` go; folders after it (whose ``latest`` never
    arrived) are left alone. Files are emptied before deletion (:func:`_remove_tree`).
    """
    keep_step = _step(keep)
    spare = KEEP - 1
    for folder in _checkpoint_folders(checkpoint_dir):
        if keep_step is None or _step(folder.name) >= keep_step:
            continue
        if spare > 0 and _incomplete(folder) is None:
            spare -= 1
            continue
        _remove_tree(folder, ignore_errors=True)
    for stale in checkpoint_dir.glob(".writing-*"):
        _remove_tree(stale, ignore_errors=True)


_REPORTED: set[str] = set()  # fallbacks already reported by this process


def _report(message: str) -> None:
    """Warn once per process: a resume looks up the latest checkpoint more than once."""
    if message not in _REPORTED:
        _REPORTED.add(message)
        warnings.warn(message, stacklevel=3)


def latest_checkpoint(checkpoint_dir) -> Path | None:
    """The folder named by ``latest`` if it is whole, else the newest whole one before it;
    None when there is none (or no ``latest``).

    Whole means every file its manifest lists is there with that size and SHA-256 (see
    :func:`_incomplete`): a folder on Google Drive can be visible before all its files
    have arrived. Should ``latest`` name a folder that is gone (a kill between replacing
    a checkpoint of the same step and the rename) or no checkpoint at all, the newest
    whole one is used. A fallback is reported in one line (``warnings.warn``).
    """
    checkpoint_dir = Path(checkpoint_dir)
    pointer = checkpoint_dir / LATEST
    if not pointer.exists():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    named = _step(name)
    folder = checkpoint_dir / name
    if named is not None:
        why = _incomplete(folder)
        if why is None:
            return folder
    if named is None or not folder.is_dir():
        what = f"{pointer} names {name!r}, which is not there"
        named = None  # any whole checkpoint will do
    else:
        what = f"{folder} is incomplete ({why})"
    for candidate in _checkpoint_folders(checkpoint_dir):
        if (named is None or _step(candidate.name) < named) and _incomplete(candidate) is None:
            _report(f"{what}: using {candidate.name} instead")
            return candidate
    _report(f"{what}, and no {'earlier ' if named is not None else ''}checkpoint is whole")
    return None


class RunInUse(RuntimeError):
    """Another process is training in this run folder."""


# How RunLock takes the OS lock: "fcntl" (Linux, macOS) or "msvcrt" (Windows).
_LOCKING = "msvcrt" if os.name == "nt" else "fcntl"
# Windows locks byte ranges and forbids other processes to read them, so the lock sits
# on one byte far past the process id that the file holds for the error message.
_MSVCRT_LOCK_OFFSET = 1 << 20


def _try_lock(handle) -> bool:
    """Take the exclusive OS lock on ``handle`` without waiting; False if another holds it."""
    if _LOCKING == "msvcrt":
        import msvcrt

        handle.seek(_MSVCRT_LOCK_OFFSET)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(handle) -> None:
    if _LOCKING == "msvcrt":
        import msvcrt

        handle.seek(_MSVCRT_LOCK_OFFSET)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    # flock: closing the file drops the lock


class RunLock:
    """An exclusive lock on a run folder, so two processes never train into it at once.

    It is an OS file lock on ``run_dir/.lock`` (``flock`` on Linux and macOS, ``msvcrt``
    byte locking on Windows): the operating system drops it when the process ends, even
    after ``kill -9``, so a crash never leaves a stale lock. The file holds the owner's
    process id, for the error message.
    """

    def __init__(self, run_dir):
        self.path = Path(run_dir) / ".lock"
        self._handle = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        if not _try_lock(handle):
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise RunInUse(f"{self.path.parent} is in use by another training process "
                           f"(pid {owner}); wait for it to finish or choose another run folder")
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            _unlock(self._handle)
            self._handle.close()
            self._handle = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def _on_unmounted_drive(run_dir: Path) -> bool:
    """Whether ``run_dir`` lies under :data:`DRIVE_MOUNT` while nothing is mounted there
    (symbolic links, such as a shortcut to ``/content/drive/MyDrive``, are followed)."""
    drive = Path(os.path.realpath(DRIVE_MOUNT))
    folder = Path(os.path.realpath(run_dir))
    return (folder == drive or drive in folder.parents) and not os.path.ismount(drive)


def check_drive_mounted(run_dir) -> None:
    """Refuse a run folder on Google Drive while Drive is not mounted, before anything is made.

    After ``drive.flush_and_unmount()`` (a notebook's last cell) a path under
    :data:`DRIVE_MOUNT` is just a local folder: training or comparing into it would put
    the run on the runtime's own disk, lost with the runtime.

    Raises:
        ValueError: one line naming the folder and what to do.
    """
    if _on_unmounted_drive(Path(run_dir)):
        raise ValueError(f"run folder {run_dir} is on Google Drive, which is not mounted now "
                         f"(a notebook's last cell unmounts it): run the notebook's setup "
                         f"cell again to mount it")


def check_writable(run_dir, needed_bytes: int) -> None:
    """Fail before training when the run folder cannot take a checkpoint.

    A folder on Google Drive while Drive is not mounted is refused before anything is
    created (:func:`check_drive_mounted`).

    Raises:
        ValueError: Drive is not mounted, the folder is not writable, or its disk has
            less than ``needed_bytes`` free (one line, with the numbers).
    """
    run_dir = Path(run_dir)
    check_drive_mounted(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as error:
        raise ValueError(f"cannot write to run folder {run_dir}: {error.strerror or error}") from None
    free = shutil.disk_usage(run_dir).free
    if free < needed_bytes:
        raise ValueError(f"run folder {run_dir} has {free / 2**20:.0f} MiB free; a run needs "
                         f"about {needed_bytes / 2**20:.0f} MiB for its checkpoints and pictures")


def checkpoint_bytes(generator, discriminator) -> int:
    """Bytes of one checkpoint: weights plus two Adam moments per trainable weight."""
    weights = sum(int(np.prod(w.shape)) for w in generator.weights + discriminator.weights)
    return 4 * 3 * weights


def load_checkpoint(folder, generator, discriminator, gan) -> tuple[dict, dict[str, np.ndarray]]:
    """Load weights and optimiser state into the models; return (state, arrays)."""
    folder = Path(folder)
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    try:
        load_model_weights(generator, folder / "generator.weights.h5")
        load_model_weights(discriminator, folder / "discriminator.weights.h5")
    except ValueError as error:
        raise ValueError(
            f"checkpoint {folder} does not fit these models (different image size, latent "
            f"size or widths?): {str(error).splitlines()[0]}") from None
    discriminator.trainable = True
    restore_optimizer_state(discriminator.optimizer, discriminator.trainable_variables,
                            dict(np.load(folder / "d_optimizer.npz")), "discriminator")
    restore_optimizer_state(gan.optimizer, generator.trainable_variables,
                            dict(np.load(folder / "g_optimizer.npz")), "generator")
    discriminator.trainable = False
    with np.load(folder / "arrays.npz") as archive:
        arrays = {key: archive[key] for key in archive.files}
    return state, arrays
