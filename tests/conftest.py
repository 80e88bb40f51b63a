"""Shared fixtures. Importing gan_helpers first starts TensorFlow quietly."""
from __future__ import annotations

import io
import os
import tempfile

os.environ.setdefault("GAN_CACHE_DIR", tempfile.mkdtemp(prefix="gan-helpers-test-cache-"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

import gan_helpers  # noqa: E402,F401


def _face(size=(40, 30), color=(200, 80, 40)) -> Image.Image:
    image = Image.new("RGB", size, color)
    image.paste((20, 20, 200), (0, 0, size[0] // 2, size[1] // 2))
    return image


@pytest.fixture
def mixed_folder(tmp_path):
    """A folder of good images in every supported form plus broken files.

    Returns (folder, good_names, bad_names).
    """
    root = tmp_path / "mixed"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / ".ipynb_checkpoints").mkdir()
    good = []

    def save(image, name, **kwargs):
        image.save(root / name, **kwargs)
        good.append(name)

    save(_face(), "rgb.png")
    save(_face(), "upper.JPG", format="JPEG")
    save(_face().convert("L"), "gray.jpeg", format="JPEG")
    save(_face().convert("CMYK"), "cmyk.jpg", format="JPEG")
    save(_face(), "sub/bitmap.bmp")
    save(_face(), "sub/deeper/web.webp", format="WEBP")
    rgba = _face().convert("RGBA")
    rgba.putalpha(0)  # fully transparent: must come out white
    save(rgba, "transparent.png")
    save(_face().convert("LA"), "la.png")
    palette = _face().convert("P")
    palette.info["transparency"] = 0
    save(palette, "palette.png", transparency=0)
    frames = [_face(color=(255, 0, 0)), _face(color=(0, 255, 0))]
    frames[0].save(root / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    good.append("anim.gif")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    save(_face(size=(40, 20)), "rotated.jpg", format="JPEG", exif=exif.tobytes())
    sixteen = Image.fromarray((np.arange(30 * 40).reshape(30, 40) * 50).astype(np.uint16))
    save(sixteen, "sixteen.png")

    bad = []
    (root / "empty.png").write_bytes(b"")
    bad.append("empty.png")
    buffer = io.BytesIO()
    _face((64, 64)).save(buffer, format="PNG")
    (root / "truncated.png").write_bytes(buffer.getvalue()[:60])
    bad.append("truncated.png")
    (root / "notes.jpg").write_text("this is not a JPEG")
    bad.append("notes.jpg")
    _face().save(root / ".ipynb_checkpoints" / "hidden.png")  # skipped, not loaded
    (root / "readme.txt").write_text("ignored: not an image extension")
    return root, sorted(good), sorted(bad)


@pytest.fixture(scope="session")
def faces32():
    """The committed sample of cartoon faces at 32 px, uint8 (320, 32, 32, 3)."""
    return gan_helpers.load_cartoon_faces(320, image_size=32)
