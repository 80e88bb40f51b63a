"""Hostile inputs, generated here: what a scraped dataset or a Kaggle zip contains.

Every good image loads, every bad one is named, nothing hangs. (The basic corpus, with
zero-byte, truncated, text-as-JPEG, 16-bit, CMYK, palette, animated GIF and EXIF files,
is ``mixed_folder`` in conftest.py.)
"""
import io
import os
import struct
import warnings
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

import gan_helpers as gh
from gan_helpers.core import data


def _png(size=(24, 18), color=(200, 60, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def _bomb_png(width=40_000, height=40_000) -> bytes:
    """A tiny PNG whose header claims 1.6 gigapixels (the IHDR is rewritten, CRC fixed)."""
    raw = bytearray(_png((1, 1)))
    ihdr = 8  # after the signature: length(4) type(4) data(13) crc(4)
    raw[ihdr + 8:ihdr + 16] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(raw[ihdr + 4:ihdr + 21])) & 0xFFFFFFFF
    raw[ihdr + 21:ihdr + 25] = struct.pack(">I", crc)
    return bytes(raw)


@pytest.fixture
def hostile_folder(tmp_path):
    root = tmp_path / "scraped"
    root.mkdir()
    good, bad = [], []
    (root / "ok.png").write_bytes(_png())
    good.append("ok.png")
    (root / "tiny.png").write_bytes(_png((1, 1)))
    good.append("tiny.png")
    frames = [Image.new("RGB", (20, 20), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(root / "animated.webp", save_all=True, append_images=frames[1:], duration=50)
    good.append("animated.webp")
    os.symlink("loop.png", root / "loop.png")  # a link to itself
    bad.append("loop.png")
    os.symlink(root, root / "folder_loop")  # a folder link back to the root: not followed
    (root / "bomb.png").write_bytes(_bomb_png())  # refused by Pillow itself
    bad.append("bomb.png")
    (root / "huge.png").write_bytes(_bomb_png(10_000, 8_000))  # under Pillow's limit, over ours
    bad.append("huge.png")
    name = os.fsencode(root) + b"/caf\xe9-latin1.png"  # not valid UTF-8
    with open(name, "wb") as handle:
        handle.write(_png(color=(10, 200, 10)))
    good.append(os.fsdecode(b"caf\xe9-latin1.png"))
    return root, sorted(good), sorted(bad)


def test_hostile_folder_loads_every_good_image_and_names_every_bad_one(hostile_folder, tmp_path):
    root, good, bad = hostile_folder
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images, skipped = data.load_image_folder(root, 32, cache_dir=tmp_path / "cache",
                                                 progress=False)
    assert len(images) == len(good)
    assert sorted(os.path.basename(p) for p, _ in skipped) == bad
    reasons = dict((os.path.basename(p), why) for p, why in skipped)
    assert "DecompressionBomb" in reasons["bomb.png"]
    assert "10000x8000 pixels is over the 64 MP limit" in reasons["huge.png"]
    assert any("skipped 3 of" in str(w.message) for w in caught)
    # the second call hits the cache (keyed by names that are not valid UTF-8, too)
    with pytest.warns(UserWarning, match="skipped 3 of"):  # the cached list is named again
        again, _ = data.load_image_folder(root, 32, cache_dir=tmp_path / "cache", progress=False)
    assert np.array_equal(images, again)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_file_is_named(tmp_path):
    root = tmp_path / "perm"
    root.mkdir()
    (root / "ok.png").write_bytes(_png())
    (root / "secret.png").write_bytes(_png())
    (root / "secret.png").chmod(0)
    with pytest.warns(UserWarning, match="secret.png"):
        images, skipped = data.load_image_folder(root, 32, cache_dir=False, progress=False)
    assert len(images) == 1 and "PermissionError" in skipped[0][1]


def test_a_zip_of_images_is_a_dataset(tmp_path):
    archive = tmp_path / "kaggle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(5):
            zf.writestr(f"faces/img_{i}.png", _png(color=(40 * i, 100, 200)))
        zf.writestr("faces/broken.jpg", b"not a jpeg")
        zf.writestr("__MACOSX/faces/._img_0.png", b"resource fork")
        zf.writestr("faces/readme.txt", "ignored")
        zf.writestr("faces/bomb.png", _bomb_png())
    with pytest.warns(UserWarning, match=r"skipped 2 of 7 .*broken\.jpg"):
        images, skipped = data.load_image_folder(archive, 32, cache_dir=tmp_path / "c",
                                                 progress=False)
    assert images.shape == (5, 32, 32, 3)
    assert sorted(name for name, _ in skipped) == ["faces/bomb.png", "faces/broken.jpg"]
    # through the public entry point and the cache
    with pytest.warns(UserWarning):
        again = gh.load_dataset(str(archive), 32, cache_dir=tmp_path / "c", progress=False)
    assert np.array_equal(images, again)


def test_a_file_that_is_neither_folder_nor_zip_is_one_clear_error(tmp_path):
    single = tmp_path / "one.png"
    single.write_bytes(_png())
    with pytest.raises(ValueError, match="is a file, not a folder or a zip file"):
        data.load_image_folder(single, 32)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ValueError, match="is a file, not a folder or a zip"):
        data.load_image_folder(broken, 32)
