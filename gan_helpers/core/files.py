"""Every file the package writes appears whole or not at all.

A file is written under a temporary name in its own folder (hidden: ``.<name>.<random>.tmp``
and the name's own ending, so writers that read the ending, such as Pillow, matplotlib or
Keras' ``.weights.h5``, still know the format), flushed to the disk with ``fsync`` and
renamed over ``path`` with ``os.replace``, which is atomic: a reader, or a run killed
half-way, sees the old file or the new one, never half of one. Should the writing fail,
the temporary file is removed. The file gets the permissions a plain ``open`` would give
(``0o666`` less the umask), not ``mkstemp``'s ``0o600``.

* :func:`atomic_write`: a file object to write into (``with atomic_write(p) as f: np.save(f, a)``);
* :func:`atomic_path`: a temporary path, for writers that take a path rather than a file
  (``model.save_weights``, ``Image.save``, ``fig.savefig``);
* :func:`write_text_atomic`, :func:`write_bytes_atomic`: a whole file at once;
* :func:`temporary_beside`, :func:`commit`, :func:`fsync_file`: the steps, for a writer
  that streams over a longer time (the decoding cache of :mod:`gan_helpers.core.data`) and
  for checkpoints, whose whole folder is renamed into place (:mod:`gan_helpers.core.checkpoint`);
* :func:`append_text`: the one kind of write that is not a replacement, history and
  warnings appended line by line, flushed to the disk before it returns.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def umask() -> int:
    """The process's umask (read without changing it for longer than the call)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_file(path) -> None:
    """Flush a written file's data to the disk (whatever handle wrote it)."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def temporary_beside(path) -> Path:
    """Create an empty temporary file in ``path``'s folder (made if missing) and return it.

    Its name is hidden and ends in ``.tmp`` plus ``path``'s own ending (``.png``,
    ``.weights.h5``); its permissions are those of a file made by ``open``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ending = "".join(path.suffixes[-2:])
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{ending}")
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes 0600; give the usual permissions
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def commit(tmp, path) -> None:
    """Flush ``tmp`` to the disk and rename it over ``path`` (atomically)."""
    fsync_file(tmp)
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_path(path):
    """A temporary path beside ``path`` to write to; when the block ends without an error
    it becomes ``path`` (:func:`commit`), else it is removed.

    For writers that need a path::

        with atomic_path(folder / "grid.png") as tmp:
            image.save(tmp)
    """
    path = Path(path)
    tmp = temporary_beside(path)
    try:
        yield tmp
        commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", encoding: str | None = None):
    """A file object to write ``path`` through (``mode`` ``"wb"`` or ``"w"``); the file
    appears, whole, when the block ends without an error (see :func:`atomic_path`)."""
    if mode not in ("w", "wt", "wb"):
        raise ValueError(f"atomic_write writes a new file: mode 'w' or 'wb', not {mode!r}")
    if "b" not in mode and encoding is None:
        encoding = "utf-8"
    with atomic_path(path) as tmp, open(tmp, mode, encoding=encoding) as handle:
        yield handle


def write_text_atomic(path, text: str) -> None:
    """Write a UTF-8 text file, whole or not at all."""
    with atomic_write(path, "w") as handle:
        handle.write(text)


def write_bytes_atomic(path, data: bytes) -> None:
    """Write a binary file, whole or not at all."""
    with atomic_write(path, "wb") as handle:
        handle.write(data)


def append_text(path, text: str) -> None:
    """Append UTF-8 ``text`` to ``path`` (made if missing) and flush it to the disk."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
