"""Atomic checkpoints: a run can be killed at any moment and resumed from the last good one.

A checkpoint is a folder ``checkpoints/ckpt-<step>`` written under a temporary name and
renamed into place; the pointer file ``checkpoints/latest`` is replaced atomically
after the rename, so "latest" always names a complete checkpoint.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

LATEST = "latest"
KEEP = 2  # complete checkpoints kept on disk


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path, text: str) -> None:
    """Write a text file via a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _inner(optimizer):
    """The optimiser that holds the training state: under ``mixed_float16`` Keras wraps it
    in a LossScaleOptimizer, whose own loss scale is not saved (it adapts again within a
    few steps), so a run can change precision when it resumes."""
    return getattr(optimizer, "inner_optimizer", optimizer)


_POSITIONAL = re.compile(r"\d{4}")  # the keys of checkpoints before 2026-11-26: "0000", ...


def optimizer_state(optimizer) -> dict[str, np.ndarray]:
    """Every variable of a built Keras optimiser, by name (Adam: ``iteration``,
    ``learning_rate``, then ``<model>_<layer>_<weight>_momentum`` / ``_velocity``).

    The names are stable because every layer of :mod:`gan_helpers.models` is named (Keras'
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
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
        save_model_weights(generator, tmp / "generator.weights.h5")
        save_model_weights(discriminator, tmp / "discriminator.weights.h5")
        np.savez(tmp / "d_optimizer.npz", **optimizer_state(discriminator.optimizer))
        np.savez(tmp / "g_optimizer.npz", **optimizer_state(gan.optimizer))
        np.savez(tmp / "arrays.npz", **arrays)
        (tmp / "state.json").write_text(json.dumps(state), encoding="utf-8")
        for file in tmp.iterdir():  # flush data before the rename makes it visible
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_text_atomic(checkpoint_dir / LATEST, final.name + "\n")
    _prune(checkpoint_dir, keep=final.name)
    return final


def _prune(checkpoint_dir: Path, keep: str) -> None:
    complete = sorted(p for p in checkpoint_dir.glob("ckpt-*") if p.is_dir())
    for old in complete[:-KEEP]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for stale in checkpoint_dir.glob(".writing-*"):
        shutil.rmtree(stale, ignore_errors=True)


def latest_checkpoint(checkpoint_dir) -> Path | None:
    """The folder named by ``latest``, or None when the run has no complete checkpoint.

    Should ``latest`` name a folder that is gone or incomplete (a kill between replacing
    a checkpoint of the same step and the rename), the newest complete one is used.
    """
    checkpoint_dir = Path(checkpoint_dir)
    pointer = checkpoint_dir / LATEST
    if not pointer.exists():
        return None
    folder = checkpoint_dir / pointer.read_text(encoding="utf-8").strip()
    if (folder / "state.json").exists():
        return folder
    complete = sorted(p for p in checkpoint_dir.glob("ckpt-*") if (p / "state.json").exists())
    return complete[-1] if complete else None


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


def check_writable(run_dir, needed_bytes: int) -> None:
    """Fail before training when the run folder cannot take a checkpoint.

    Raises:
        ValueError: the folder is not writable, or its disk has less than ``needed_bytes``
            free (one line, with the numbers).
    """
    run_dir = Path(run_dir)
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
