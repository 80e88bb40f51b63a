"""Every file the package writes appears whole or not at all (gan_helpers.core.files)."""
import os
import stat

import numpy as np
import pytest
from PIL import Image

from gan_helpers.core import files


def _usual_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


def test_a_failed_write_leaves_no_file_and_no_temporary(tmp_path):
    target = tmp_path / "sub" / "results.json"
    with pytest.raises(RuntimeError, match="half-way"):
        with files.atomic_write(target, "w") as handle:
            handle.write('{"half": ')
            raise RuntimeError("half-way")
    assert not target.exists()
    assert list((tmp_path / "sub").iterdir()) == []  # the folder was made; nothing is in it
    with pytest.raises(RuntimeError):
        with files.atomic_path(tmp_path / "grid.png") as tmp:
            Image.new("RGB", (4, 4)).save(tmp)
            raise RuntimeError("killed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]


def test_a_failed_write_keeps_the_old_file_whole(tmp_path):
    target = tmp_path / "latest"
    files.write_text_atomic(target, "ckpt-00000001\n")
    with pytest.raises(KeyboardInterrupt):
        with files.atomic_write(target, "w") as handle:
            handle.write("ckpt-000")
            raise KeyboardInterrupt
    assert target.read_text() == "ckpt-00000001\n"
    assert _leftovers(tmp_path) == []


def test_an_existing_file_is_replaced_by_a_rename(tmp_path):
    target = tmp_path / "config.json"
    files.write_text_atomic(target, "old")
    held = open(target, encoding="utf-8")  # a reader that opened the old file keeps it
    try:
        before = os.stat(target).st_ino
        with files.atomic_write(target, "w") as handle:
            handle.write("new")
            assert target.read_text() == "old"  # nothing visible until the block ends
        assert target.read_text() == "new"
        assert os.stat(target).st_ino != before  # a new file renamed over, not rewritten
        assert held.read() == "old"
    finally:
        held.close()
    files.write_bytes_atomic(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert _leftovers(tmp_path) == []


def test_files_get_the_usual_permissions_not_mkstemps(tmp_path):
    text, data = tmp_path / "a.txt", tmp_path / "b.bin"
    files.write_text_atomic(text, "x")
    files.write_bytes_atomic(data, b"x")
    with files.atomic_path(tmp_path / "c.png") as tmp:
        assert stat.S_IMODE(tmp.stat().st_mode) == _usual_mode()
        Image.new("RGB", (2, 2)).save(tmp)
    for path in (text, data, tmp_path / "c.png"):
        assert stat.S_IMODE(path.stat().st_mode) == _usual_mode(), path


def test_path_writers_see_the_files_own_ending(tmp_path):
    # Pillow, matplotlib, NumPy and Keras pick the format (or add an ending) by the name.
    from gan_helpers._tf import keras

    with files.atomic_path(tmp_path / "face.JPG") as tmp:
        assert tmp.name.startswith(".face.JPG.") and tmp.name.endswith(".tmp.JPG")
        Image.new("RGB", (8, 8), (200, 10, 10)).save(tmp)
    with Image.open(tmp_path / "face.JPG") as image:
        assert image.format == "JPEG"
    with files.atomic_path(tmp_path / "noise.npy") as tmp:
        np.save(tmp, np.arange(3))  # would add ".npy" to a name without it
    assert np.load(tmp_path / "noise.npy").tolist() == [0, 1, 2]
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with files.atomic_path(tmp_path / "m.weights.h5") as tmp:
        model.save_weights(tmp)  # Keras refuses a name not ending in .weights.h5
    model.load_weights(tmp_path / "m.weights.h5")
    assert _leftovers(tmp_path) == []


def test_atomic_write_refuses_appending_modes(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        with files.atomic_write(tmp_path / "x", "a"):
            pass
    assert list(tmp_path.iterdir()) == []


def test_append_text_adds_to_the_end(tmp_path):
    path = tmp_path / "warnings.txt"
    files.append_text(path, "one\n")
    files.append_text(path, "two\n")
    assert path.read_text() == "one\ntwo\n"


def test_checkpoint_keeps_its_old_name_for_the_atomic_text_writer():
    from gan_helpers.core import checkpoint

    assert checkpoint.write_text_atomic is files.write_text_atomic
