"""Where images come from: the built-in cartoon and emoji faces, any folder or zip of
images, and the cache that decodes each of them once.

Images are uint8 arrays (N, S, S, 3), memory-mapped from the cache where there is one.
Turning them into training batches is :mod:`gan_helpers.core.batches`' job (its names are
importable from here too).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .batches import (batch_plan, iterate_batches, make_dataset,  # noqa: F401 (re-exported)
                      scale_images, steps_per_epoch, unscale_images)
from .config import QUICK, quick_value
from .files import (atomic_path, atomic_write, commit, temporary_beside, write_bytes_atomic,
                    write_text_atomic)
from .progress import progress_bar

CARTOON_FACES = "cartoon-faces"
NOTO_EMOJI = "noto-emoji"
DATASETS = (CARTOON_FACES, NOTO_EMOJI)
NOTO_EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
NOTO_EMOJI_CREDIT = "Noto Emoji by Google (Apache 2.0), from Debian's fonts-noto-color-emoji"
# Smileys, cat faces and face-like emoji: 102 hand-drawn faces (no people, hands or objects).
EMOJI_FACES = (*range(0x1F600, 0x1F645), *range(0x1F910, 0x1F918), *range(0x1F920, 0x1F926),
               *range(0x1F927, 0x1F930), 0x1F970, 0x1F971, 0x1F972, 0x1F973, 0x1F974, 0x1F975,
               0x1F976, 0x1F978, 0x1F97A, 0x1F9D0)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")
CARTOON_FACES_CREDIT = "Adventurer by Lisa Wischofsky (CC BY 4.0), rendered with DiceBear"
# Faces are drawn at RENDER_SIZE and box-filtered down, so every size is a clean
# average of the same drawing (and the 64 px sample matches a fresh render).
RENDER_SIZE = 128
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "cartoon-faces-sample"


def default_cache_dir() -> Path:
    """Where rendered and decoded datasets are cached: ``$GAN_CACHE_DIR`` or ~/.cache/gan_helpers."""
    return Path(os.environ.get("GAN_CACHE_DIR", Path.home() / ".cache" / "gan_helpers"))


def default_image_count() -> int:
    """Images of the built-in dataset used by default: 10,000, or 256 in quick mode."""
    return quick_value(10_000, 256)


def _check_size(image_size: int) -> None:
    if not isinstance(image_size, (int, np.integer)) or not 8 <= image_size <= 1024:
        raise ValueError(f"image_size must be an integer from 8 to 1024, got {image_size!r}")


# --------------------------------------------------------------------------- images

def to_rgb_on_white(image: Image.Image) -> Image.Image:
    """Convert any Pillow image to RGB; transparency is composited on white.

    16-bit and 32-bit grayscale are rescaled to 8 bits (a plain ``convert`` clips them).
    """
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        values = np.clip(values / top * 255.0, 0, 255).astype(np.uint8)
        image = Image.fromarray(values, mode="L")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def center_crop_resize(image: Image.Image, image_size: int) -> Image.Image:
    """Crop the largest centred square and resize it to ``image_size`` (Lanczos)."""
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    if side == image_size:
        return square
    return square.resize((image_size, image_size), Image.Resampling.LANCZOS)


MAX_PIXELS = 64_000_000
"""Images with more pixels are refused from their header, before any decoding (a guard
against decompression bombs: a small file that would decode to gigabytes)."""
MAX_ZIP_MEMBER_BYTES = 256 * 2**20


def load_image_file(path, image_size: int) -> np.ndarray:
    """Decode one file into uint8 (S, S, 3): first frame, EXIF rotation, RGB on white, centre crop.

    Args:
        path: a path or a binary file object.

    Raises:
        OSError, ValueError, Image.DecompressionBombError: the file is not a usable image.
    """
    with Image.open(path) as image:
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ValueError(f"{width}x{height} pixels is over the {MAX_PIXELS // 10**6} MP limit "
                             f"(decompression-bomb guard)")
        image.seek(0)
        image = ImageOps.exif_transpose(image)
        image = to_rgb_on_white(image)
        if min(image.size) < 1:
            raise ValueError("image has no pixels")
        return np.asarray(center_crop_resize(image, image_size), dtype=np.uint8)


def list_image_files(folder) -> list[Path]:
    """Image files under ``folder`` (recursive, sorted), skipping hidden files and folders."""
    folder = Path(folder)
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS):
                found.append(Path(root) / name)
    return found


def scan_image_sizes(folder, limit: int | None = None) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Width and height of every image under ``folder`` (or in a zip of images), read from
    headers (no decoding).

    Args:
        limit: only the first ``limit`` files, in the order the loader takes them.

    Returns:
        (sizes, unreadable): int (N, 2) array of (width, height), and (path, reason) pairs.
    """
    folder = Path(folder)
    sizes, unreadable = [], []

    def read(name, opener):
        try:
            with opener() as handle, Image.open(handle) as image:
                sizes.append(image.size)
        except Exception as error:  # noqa: BLE001
            unreadable.append((name, type(error).__name__))

    if folder.is_file():
        with zipfile.ZipFile(folder) as archive:
            for info in _zip_members(archive)[:limit]:
                read(info.filename, lambda info=info: archive.open(info))
    else:
        for path in list_image_files(folder)[:limit]:
            read(str(path), lambda path=path: open(path, "rb"))
    return np.asarray(sizes, dtype=np.int64).reshape(-1, 2), unreadable


def make_messy_folder(folder, count: int = 48, seed: int = 0) -> Path:
    """Write a small "scraped" folder to practise on: odd sizes and formats, a few broken files.

    Cartoon faces in PNG, JPEG, WebP and GIF, at random sizes and aspect ratios, some
    grayscale or transparent, in subfolders; plus a zero-byte file, a truncated PNG and a
    text file named ``.jpg``. Deterministic for ``seed``.

    Returns:
        The folder.
    """
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    faces = render_cartoon_faces(count, 128, seed=seed + 1000, progress=False)
    for i in range(count):
        width = int(rng.integers(48, 400))
        height = int(width * rng.choice([1.0, 0.75, 1.33, 0.5, 1.8]))
        # The face in the middle of a wider or taller coloured background, like a photo.
        image = Image.new("RGB", (width, height), tuple(int(v) for v in rng.integers(150, 256, 3)))
        side = max(8, int(min(width, height) * rng.uniform(0.7, 1.0)))
        face = Image.fromarray(faces[i]).resize((side, side), Image.Resampling.LANCZOS)
        image.paste(face, ((width - side) // 2, (height - side) // 2))
        kind = i % 6
        sub = folder / ("set_a" if i % 2 else "set_b")
        sub.mkdir(parents=True, exist_ok=True)
        if kind == 0:
            _save_image(image, sub / f"face_{i:03d}.png")
        elif kind == 1:
            _save_image(image, sub / f"face_{i:03d}.JPG", format="JPEG", quality=85)
        elif kind == 2:
            _save_image(image.convert("L"), sub / f"face_{i:03d}.jpeg", format="JPEG")
        elif kind == 3:
            _save_image(image, sub / f"face_{i:03d}.webp", format="WEBP")
        elif kind == 4:
            pixels = np.array(image.convert("RGBA"))
            pixels[(pixels[..., :3] > 245).all(-1), 3] = 0  # white background -> transparent
            _save_image(Image.fromarray(pixels), sub / f"face_{i:03d}.png")
        else:
            _save_image(image.convert("P"), sub / f"face_{i:03d}.gif")
    write_bytes_atomic(folder / "empty.png", b"")
    buffer = io.BytesIO()
    Image.fromarray(faces[0]).save(buffer, format="PNG")
    write_bytes_atomic(folder / "truncated.png", buffer.getvalue()[: len(buffer.getvalue()) // 3])
    write_text_atomic(folder / "not_an_image.jpg", "<html>404 Not Found</html>")
    return folder


def _save_image(image: Image.Image, path, **options) -> Path:
    """``image.save(path, **options)``, whole or not at all (:func:`gan_helpers.core.files.atomic_path`);
    the format follows ``path``'s ending unless ``format=`` says otherwise."""
    path = Path(path)
    with atomic_path(path) as tmp:
        image.save(tmp, **options)
    return path


def _folder_fingerprint(files: list[Path], image_size: int) -> str:
    digest = hashlib.sha1(f"v1|{image_size}".encode())
    for path in files:
        try:
            stat = path.stat()
            digest.update(f"|{path}|{stat.st_size}|{stat.st_mtime_ns}".encode("utf-8", "surrogateescape"))
        except OSError:
            digest.update(f"|{path}|missing".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:16]


def load_image_folder(folder, image_size: int = 64, max_images: int | None = None,
                      cache_dir=None, progress: bool = True):
    """Decode every image under a folder once, into memory, skipping broken files.

    Unreadable files (zero bytes, truncated, not an image) are skipped and listed in
    one warning. The decoded array is cached as ``.npy`` (keyed by the files' names,
    sizes and times), so a second call does not decode again.

    Args:
        folder: a folder searched recursively for PNG, JPEG, GIF, BMP and WebP files.
        image_size: side of the square output.
        max_images: keep only the first N files (sorted by path).
        cache_dir: where to cache; None uses :func:`default_cache_dir`, False disables.
        progress: show a progress bar while decoding.

    Returns:
        (images, skipped): uint8 (N, S, S, 3) and a list of (path, reason) pairs.

    Raises:
        FileNotFoundError: the folder does not exist.
        ValueError: it holds no readable image.
    """
    _check_size(image_size)
    folder = Path(folder).expanduser()
    if folder.is_file() and zipfile.is_zipfile(folder):
        return load_image_zip(folder, image_size, max_images, cache_dir, progress)
    if folder.is_file():
        raise ValueError(f"{folder} is a file, not a folder or a zip file of images")
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder}")
    files = _first(list_image_files(folder), max_images, folder)
    return _decode_all(files, [str(f) for f in files], lambda f: load_image_file(f, image_size),
                       folder, cache_dir, lambda: _folder_fingerprint(files, image_size), progress)


def _zip_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Image members of a zip, sorted, skipping folders, hidden files and macOS metadata."""
    members = []
    for info in archive.infolist():
        parts = info.filename.split("/")
        if info.is_dir() or any(part.startswith(".") or part == "__MACOSX" for part in parts):
            continue
        if info.filename.lower().endswith(IMAGE_EXTENSIONS):
            members.append(info)
    return sorted(members, key=lambda info: info.filename)


def load_image_zip(path, image_size: int = 64, max_images: int | None = None,
                   cache_dir=None, progress: bool = True):
    """Decode the images inside a zip file (a Kaggle download) without unpacking it.

    Works like :func:`load_image_folder`: broken members are skipped and named, members
    that would unpack to more than 256 MiB are refused, and the result is cached.

    Returns:
        (images, skipped): uint8 (N, S, S, 3) and a list of (member, reason) pairs.
    """
    import threading

    _check_size(image_size)
    path = Path(path).expanduser()
    try:
        with zipfile.ZipFile(path) as archive:
            members = _zip_members(archive)
    except (OSError, zipfile.BadZipFile) as error:
        raise ValueError(f"cannot read zip file {path}: {error}") from None
    members = _first(members, max_images, path)

    def fingerprint():
        stat = path.stat()
        digest = hashlib.sha1(f"zip-v1|{image_size}|{path.resolve()}|{stat.st_size}|"
                              f"{stat.st_mtime_ns}|{len(members)}".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()[:16]

    local = threading.local()  # one open archive per decoding thread

    def load(info):
        if info.file_size > MAX_ZIP_MEMBER_BYTES:
            raise ValueError(f"unpacks to {info.file_size / 2**20:.0f} MiB")
        if not hasattr(local, "archive"):
            local.archive = zipfile.ZipFile(path)
        return load_image_file(io.BytesIO(local.archive.read(info)), image_size)

    return _decode_all(members, [m.filename for m in members], load, path, cache_dir,
                       fingerprint, progress)


def _first(items: list, max_images: int | None, source):
    """The first ``max_images`` of ``items``; ValueError when there are none."""
    items = items[:max_images] if max_images is not None else items
    if not items:
        raise ValueError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) found in {source}")
    return items


def _decode_all(items, names: list[str], load, source: Path, cache_dir, fingerprint,
                progress: bool):
    """Decode ``items`` once, or read the cache of an earlier decode.

    ``load(item)`` returns a uint8 image or raises; any failure skips the item and is named
    in one warning (again on a cache hit). Decoding runs on a thread pool, straight into the
    cache file ``fingerprint()`` names (memory-mapped), unless ``cache_dir`` is False.

    Returns:
        (images, skipped): uint8 (N, S, S, 3) and a list of (name, reason) pairs.
    """
    cache_file = None
    if cache_dir is not False:
        cache_root = Path(cache_dir) if cache_dir else default_cache_dir()
        cache_file = cache_root / "folders" / f"{fingerprint()}.npy"
        if cache_file.exists():
            skipped_file = cache_file.with_suffix(".skipped.json")
            skipped = [tuple(x) for x in json.loads(skipped_file.read_text())] \
                if skipped_file.exists() else []
            _warn_skipped(source, skipped, len(names))
            return np.load(cache_file, mmap_mode="r"), skipped

    def decode(item):
        try:
            return load(item), None
        except Exception as error:  # noqa: BLE001 - any failure means "skip this file"
            return None, f"{type(error).__name__}: {error}".splitlines()[0][:200]

    # Decoded images go straight into the cache file: a folder larger than the memory
    # decodes as well as a small one (without a cache, into memory).
    writer = _ImageWriter(cache_file, len(items))
    skipped = []
    try:
        with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) * 2)) as pool:
            # pool.map would decode everything ahead of the loop and hold it in memory;
            # a bounded window of futures keeps at most a few hundred images in flight.
            for array, reason in progress_bar(_bounded_map(pool, decode, items), total=len(names),
                                              desc=f"decoding {source.name}", unit="img",
                                              enabled=progress, leave=False):
                if array is None:
                    skipped.append((names[writer.seen], reason))
                    writer.skip()
                else:
                    writer.add(array)
        _warn_skipped(source, skipped, len(names))
        if not writer.count:
            raise ValueError(f"none of the {len(names)} image files in {source} could be read")
        images = writer.finish()
    except BaseException:
        writer.discard()
        raise
    if cache_file is not None:
        write_text_atomic(cache_file.with_suffix(".skipped.json"), json.dumps(skipped))
    return images, skipped


def _bounded_map(pool, function, items, window: int = 256):
    """``pool.map`` that keeps at most ``window`` results waiting, in order."""
    from collections import deque

    pending = deque()
    for item in items:
        pending.append(pool.submit(function, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


_NPY_HEADER_BYTES = 128  # fixed, so the final image count can be written in place


def _npy_header(shape: tuple, dtype) -> bytes:
    """A version 1.0 ``.npy`` header of exactly :data:`_NPY_HEADER_BYTES` bytes."""
    text = (f"{{'descr': {np.dtype(dtype).str!r}, 'fortran_order': False, "
            f"'shape': {tuple(int(n) for n in shape)!r}, }}")
    size = _NPY_HEADER_BYTES - 10
    if len(text) >= size:
        raise ValueError(f"shape {shape} does not fit the cache header")
    return b"\x93NUMPY\x01\x00" + size.to_bytes(2, "little") + (text.ljust(size - 1) + "\n").encode("latin1")


class _ImageWriter:
    """Collect decoded images, in order, into a ``.npy`` file that becomes the cache file
    atomically when complete (or into memory when there is no cache file).

    The images are written with plain file writes, one after another, into a temporary
    file beside the cache file (:func:`gan_helpers.core.files.temporary_beside`), so the
    decoded dataset never has to fit in this process's memory; the header gets the final
    count (broken files are skipped) at the end, and :func:`gan_helpers.core.files.commit`
    renames the whole file into place.
    """

    def __init__(self, path: Path | None, capacity: int):
        self.path, self.capacity = path, capacity
        self.count = self.seen = 0
        self.array = self.handle = self.tmp = None
        self.shape = self.dtype = None

    def add(self, image: np.ndarray) -> None:
        if self.shape is None:
            self.shape, self.dtype = image.shape, image.dtype
            if self.path is None:
                self.array = np.empty((self.capacity, *image.shape), image.dtype)
            else:
                self.tmp = temporary_beside(self.path)
                self.handle = open(self.tmp, "wb")  # noqa: SIM115 - closed in finish/discard
                self.handle.write(_npy_header((self.capacity, *image.shape), image.dtype))
        if self.array is not None:
            self.array[self.count] = image
        else:
            self.handle.write(np.ascontiguousarray(image, self.dtype).tobytes())
        self.count += 1
        self.seen += 1

    def skip(self) -> None:
        self.seen += 1

    def finish(self) -> np.ndarray:
        """The images, read-only and memory-mapped from the cache (in memory without one)."""
        if self.path is None:
            return self.array[:self.count]
        self.handle.seek(0)
        self.handle.write(_npy_header((self.count, *self.shape), self.dtype))
        self.handle.close()
        self.handle = None
        commit(self.tmp, self.path)
        self.tmp = None
        return np.load(self.path, mmap_mode="r")

    def discard(self) -> None:
        self.array = None
        if self.handle is not None:
            self.handle.close()
            self.handle = None
        if self.tmp is not None:
            Path(self.tmp).unlink(missing_ok=True)


def _warn_skipped(folder, skipped, total) -> None:
    if skipped:
        names = "; ".join(f"{Path(p).name} ({why})" for p, why in skipped[:20])
        more = f"; and {len(skipped) - 20} more" if len(skipped) > 20 else ""
        warnings.warn(
            f"skipped {len(skipped)} of {total} files in {folder} that could not be read: "
            f"{names}{more}", stacklevel=4)


def export_images(images: np.ndarray, folder, prefix: str = "") -> list[Path]:
    """Write uint8 (N, H, W, 3) images as numbered PNG files into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    width = max(4, len(str(len(images) - 1)))
    paths = []
    for i, image in enumerate(np.asarray(images, np.uint8)):
        paths.append(_save_image(Image.fromarray(image), folder / f"{prefix}{i:0{width}d}.png",
                                optimize=True))
    return paths


# --------------------------------------------------------------------- cartoon faces

def adventurer_definition() -> dict:
    """The DiceBear "adventurer" style definition, as the ``dicebear_styles`` package ships
    it: ``"components"`` (each part, e.g. ``"hair"``, with its ``"variants"``) and
    ``"colors"`` (each colour option, e.g. ``"skin"``, with its ``"values"``, ``#rrggbb``).
    The faces are drawn from it; :mod:`gan_helpers.evaluation.attributes` reads their parts from it."""
    from importlib.resources import files

    return json.loads(files("dicebear_styles").joinpath("adventurer.json").read_text("utf-8"))


_STYLE = None


def _adventurer_style():
    global _STYLE
    if _STYLE is None:
        from dicebear import Style

        _STYLE = Style(adventurer_definition())
    return _STYLE


def render_face(options: dict, image_size: int = 64) -> np.ndarray:
    """Render one DiceBear "adventurer" face from its options, uint8 (S, S, 3).

    Args:
        options: DiceBear options, e.g. ``{"seed": "x"}`` or with parts chosen
            explicitly (``"hairVariant": "short05"``, ``"skinColor": ["763900"]``).

    The face is drawn at 128 px (or ``image_size`` if larger) by resvg, composited on
    white and box-filtered down, so every size is a clean average of the same drawing.
    """
    import resvg_py
    from dicebear import Avatar

    render = max(RENDER_SIZE, image_size)
    svg = Avatar(_adventurer_style(), {**options, "size": render}).to_string()
    png = bytes(resvg_py.svg_to_bytes(svg_string=svg, width=render, height=render,
                                      skip_system_fonts=True))
    with Image.open(io.BytesIO(png)) as image:
        face = to_rgb_on_white(image)
    if image_size != render:
        face = face.resize((image_size, image_size), Image.Resampling.BOX)
    return np.asarray(face)


def cartoon_face_seed(index: int, seed: int = 0) -> str:
    """The DiceBear seed string of face number ``index`` in the dataset with ``seed``."""
    return f"cartoon-faces-{seed}-{index}"


def render_cartoon_faces(count: int, image_size: int = 64, seed: int = 0, start: int = 0,
                         progress: bool = True) -> np.ndarray:
    """Render DiceBear "adventurer" faces, deterministically from ``seed``.

    Each face is drawn at 128 px by resvg, composited on white and box-filtered to
    ``image_size``. The pixels depend on the pinned dicebear-core, dicebear-styles and
    resvg-py versions.

    Returns:
        uint8 (count, image_size, image_size, 3).
    """
    _check_size(image_size)
    if count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    out = np.empty((count, image_size, image_size, 3), np.uint8)
    for i in progress_bar(range(count), desc="rendering cartoon faces", unit="img",
                          enabled=progress, leave=False):
        out[i] = render_face({"seed": cartoon_face_seed(start + i, seed)}, image_size)
    return out


def _sample_images(image_size: int) -> np.ndarray | None:
    files = sorted(SAMPLE_DIR.glob("*.png")) if SAMPLE_DIR.is_dir() else []
    if not files or image_size > 64:
        return None
    out = []
    for path in files:
        with Image.open(path) as image:
            face = image.convert("RGB")
            if image_size != face.size[0]:
                face = face.resize((image_size, image_size), Image.Resampling.BOX)
            out.append(np.asarray(face))
    return np.stack(out)


def cartoon_faces_cache_file(count: int, image_size: int, seed: int = 0, cache_dir=None) -> Path:
    """Where :func:`load_cartoon_faces` caches ``count`` rendered faces (``.npy``)."""
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    return root / f"{CARTOON_FACES}-seed{seed}-{image_size}px-{count}.npy"


def load_cartoon_faces(count: int | None = None, image_size: int = 64, seed: int = 0,
                       cache_dir=None, progress: bool = True, use_sample: bool = True) -> np.ndarray:
    """The built-in dataset: ``count`` DiceBear cartoon faces, rendered once and cached.

    When ``count`` fits in the committed sample (``data/cartoon-faces-sample``, seed 0,
    64 px), the sample is used and nothing is rendered: that is what quick mode and CI do.

    Args:
        count: number of faces; None means :func:`default_image_count`.
        image_size: side in pixels.
        seed: which faces (seed 0 is the default set and the committed sample).
        cache_dir: folder for the rendered ``.npy``; None uses :func:`default_cache_dir`,
            False disables caching.
        use_sample: take the committed sample when it is large enough.

    Returns:
        uint8 (count, image_size, image_size, 3).
    """
    _check_size(image_size)
    count = default_image_count() if count is None else count
    if not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    if seed == 0 and use_sample:
        sample = _sample_images(image_size)
        if sample is not None and count <= len(sample):
            return sample[:count]
    cache_file = None
    if cache_dir is not False:
        cache_file = cartoon_faces_cache_file(count, image_size, seed, cache_dir)
        if cache_file.exists():
            return np.load(cache_file, mmap_mode="r")
    images = render_cartoon_faces(count, image_size, seed=seed, progress=progress)
    if cache_file is not None:
        with atomic_write(cache_file) as handle:
            np.save(handle, images)
        return np.load(cache_file, mmap_mode="r")
    return images


def render_emoji_faces(image_size: int = 64, font_path=None) -> np.ndarray:
    """The Noto colour emoji faces, drawn by Pillow, centred on white, uint8 (102, S, S, 3).

    Noto Color Emoji is a bitmap font that Pillow draws at size 109 only. Install it with
    ``apt-get install fonts-noto-color-emoji`` (Debian/Ubuntu; Colab has apt too).

    Raises:
        FileNotFoundError: the font is not installed (the message says how to install it).
    """
    from PIL import ImageDraw, ImageFont

    _check_size(image_size)
    font_path = Path(font_path) if font_path else NOTO_EMOJI_FONT
    if not font_path.exists():
        raise FileNotFoundError(f"the noto-emoji dataset needs {font_path}: "
                                f"apt-get install fonts-noto-color-emoji")
    font = ImageFont.truetype(str(font_path), 109)
    faces = []
    for code in EMOJI_FACES:
        canvas = Image.new("RGBA", (160, 160), (255, 255, 255, 0))
        ImageDraw.Draw(canvas).text((16, 16), chr(code), font=font, embedded_color=True)
        box = canvas.getbbox()
        if box is None:  # a code point this version of the font lacks
            continue
        glyph = canvas.crop(box)
        side = max(glyph.size) + 8  # a small white margin all round
        square = Image.new("RGBA", (side, side), (255, 255, 255, 0))
        square.paste(glyph, ((side - glyph.width) // 2, (side - glyph.height) // 2))
        faces.append(np.asarray(to_rgb_on_white(square).resize(
            (image_size, image_size), Image.Resampling.LANCZOS), dtype=np.uint8))
    return np.stack(faces)


SMALL_DATASET = 1_000
"""Fewer unique images than this, and :func:`describe_dataset` warns that a run of the
default's length may learn them by heart: 102 emoji faces were, 300 and 1,000 built-in
faces were not (docs/results.md, "Your own folder"); 1,000 keeps a margin."""


def _folder_count(count: int | None) -> int | None:
    """How many of a folder's images :func:`load_dataset` takes for ``count``: all, but the
    first 256 in quick mode."""
    return default_image_count() if count is None and QUICK else count


def describe_dataset(source, images: np.ndarray, limit: int | None = None) -> tuple[str, str | None]:
    """One line on what ``source`` gave (``images``, as :func:`load_dataset` returned them
    for ``count=limit``) and a warning when so few unique images could be memorised
    (None otherwise).

    For a folder or zip the line says how many image files it holds, how many of those
    used could not be read, and the resolution they were scaled from (the median, and the
    smallest side).
    """
    count, side = len(images), images.shape[1]
    if source == CARTOON_FACES:
        line = f"{source}: {count:,} faces drawn at {max(RENDER_SIZE, side)} px, scaled to {side} px"
    elif source == NOTO_EMOJI:
        line = f"{source}: {count:,} faces drawn from the Noto Color Emoji font, scaled to {side} px"
    else:
        path = Path(str(source)).expanduser()
        if path.is_file():
            with zipfile.ZipFile(path) as archive:
                files = len(_zip_members(archive))
        else:
            files = len(list_image_files(path))
        limit = _folder_count(limit)  # what load_dataset used
        used = min(files, limit) if limit else files
        line = f"{path}: {files:,} image files" + (f", the first {used:,} used" if used < files else "")
        if used > count:
            line += f", {used - count:,} could not be read"
        sizes, _ = scan_image_sizes(path, limit=used)
        if len(sizes):
            width, height = np.sort(sizes, axis=0)[len(sizes) // 2]
            line += (f"; scaled from {width}x{height} px (median; smallest side "
                     f"{sizes.min()} px) to {side} px")
    warning = None
    if count < quick_value(SMALL_DATASET, 32):  # quick mode's 256 images are not a risk
        warning = (f"{count:,} images is few (under {SMALL_DATASET:,}): a GAN trained long can "
                   f"learn a set this small by heart (more images is the cure); a training run "
                   f"ends by saying whether its samples copy them")
    return line, warning


def load_dataset(source: str = CARTOON_FACES, image_size: int = 64, count: int | None = None,
                 cache_dir=None, progress: bool = True) -> np.ndarray:
    """Load a dataset by name (``"cartoon-faces"``), a folder of images or a zip of them.

    In quick mode a folder is cut to its first 256 images.

    Returns:
        uint8 (N, image_size, image_size, 3).

    Raises:
        FileNotFoundError: ``source`` is neither a known dataset nor an existing folder.
    """
    if source == NOTO_EMOJI:
        return render_emoji_faces(image_size)[:count]
    if source in DATASETS:
        return load_cartoon_faces(count, image_size, cache_dir=cache_dir, progress=progress)
    path = Path(str(source)).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"dataset {source!r} is neither a built-in dataset ({', '.join(DATASETS)}) "
            f"nor an existing folder or zip file")
    images, _ = load_image_folder(path, image_size, max_images=_folder_count(count),
                                  cache_dir=cache_dir, progress=progress)
    return images
