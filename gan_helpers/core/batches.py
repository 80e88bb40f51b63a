"""From images to training batches: scaling, the order of an epoch, and the pipelines.

Every batch follows :func:`batch_plan`, which depends only on (seed, epoch): a resumed
run sees the same batches as an uninterrupted one. :func:`iterate_batches` (NumPy, what
the training loop uses) reads one batch at a time, so a memory-mapped dataset never has
to fit in memory; :func:`make_dataset` is the same as a ``tf.data`` pipeline.
"""
from __future__ import annotations

import numpy as np

from .config import rng_stream


def scale_images(images):
    """uint8 [0, 255] -> float32 [-1, 1] (works on NumPy arrays and tensors)."""
    return images.astype(np.float32) / 127.5 - 1.0 if isinstance(images, np.ndarray) \
        else _tf_scale(images)


def _tf_scale(images):
    from .._tf import tf

    return tf.cast(images, tf.float32) / 127.5 - 1.0


def unscale_images(images) -> np.ndarray:
    """float [-1, 1] -> uint8 [0, 255], clipping what lies outside."""
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def steps_per_epoch(num_images: int, batch_size: int) -> int:
    """Full batches in one epoch (the last partial batch is dropped)."""
    return num_images // batch_size


def batch_plan(num_images: int, batch_size: int, seed: int = 0, epoch: int = 0,
               shuffle: bool = True, flip: bool = True,
               repeat: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Which images go into each batch of an epoch, and which of them are mirrored.

    The plan depends only on (seed, epoch), so a resumed run sees the same batches as
    an uninterrupted one. The last partial batch is dropped: every batch has
    ``batch_size`` images. With ``repeat`` an epoch shows every image that many times
    (the indices repeat, not the pixels).

    Returns:
        (indices, flips): int64 and bool arrays of shape (steps, batch_size).
    """
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not isinstance(repeat, (int, np.integer)) or repeat < 1:
        raise ValueError(f"repeat must be a positive integer, got {repeat!r}")
    shown = num_images * repeat
    if batch_size > shown:
        raise ValueError(f"batch_size {batch_size} is larger than the dataset ({num_images} images)")
    rng = rng_stream(seed, "batches", epoch)
    order = rng.permutation(shown) if shuffle else np.arange(shown)
    steps = steps_per_epoch(shown, batch_size)
    indices = (order[: steps * batch_size] % num_images).reshape(steps, batch_size).astype(np.int64)
    flips = rng.random((steps, batch_size)) < 0.5 if flip else np.zeros((steps, batch_size), bool)
    return indices, flips


def _check_images(images) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (N, H, W, C), got {images.dtype} {images.shape}")
    return images


def iterate_batches(images: np.ndarray, batch_size: int = 64, shuffle: bool = True,
                    flip: bool = True, seed: int = 0, epoch: int = 0, skip_batches: int = 0,
                    repeat: int = 1, with_indices: bool = False):
    """Yield one epoch of float32 batches in [-1, 1], assembled with NumPy.

    The same batches as :func:`make_dataset` (same :func:`batch_plan`), without
    ``tf.data``'s worker threads. The training loop uses this: on a 2-core CPU those
    threads share TensorFlow's small inter-op pool with the training step, and an
    iterator was seen to hang at an epoch's end. Assembling a batch costs ~2 ms
    against ~700 ms for the step, so nothing is lost by not prefetching.

    ``images`` may be memory-mapped (:func:`load_dataset` returns cached datasets that
    way): each batch reads only its own images, sorted by index for the disk's sake.

    Yields:
        float32 (batch_size, S, S, C) in [-1, 1]; with ``with_indices``, ``(batch,
        indices)``, the int64 (batch_size,) rows of ``images`` it holds (to pick each
        image's labels).
    """
    images = _check_images(images)
    indices, flips = batch_plan(len(images), batch_size, seed, epoch, shuffle, flip, repeat)
    for index, mirror in zip(indices[skip_batches:], flips[skip_batches:]):
        order = np.argsort(index, kind="stable")
        batch = np.empty((len(index), *images.shape[1:]), np.uint8)
        batch[order] = images[index[order]]
        batch = scale_images(batch)
        batch[mirror] = batch[mirror][:, :, ::-1]
        yield (batch, index) if with_indices else batch


def make_dataset(images: np.ndarray, batch_size: int = 64, shuffle: bool = True,
                 flip: bool = True, seed: int = 0, epoch: int = 0, skip_batches: int = 0):
    """A ``tf.data`` pipeline over uint8 images for one epoch: shuffle, batch, scale, flip, prefetch.

    Batches are gathered from one in-memory tensor (no per-image Python) following
    :func:`batch_plan`, so they equal those of :func:`iterate_batches`. That tensor holds
    the whole dataset in memory; the training loop uses :func:`iterate_batches`, which
    reads a memory-mapped dataset batch by batch.

    Args:
        images: uint8 (N, S, S, C) (from :func:`load_dataset`).
        batch_size: images per batch; must not exceed N.
        shuffle: shuffle the order every epoch.
        flip: random horizontal flips.
        seed, epoch: determine the order and the flips.
        skip_batches: start the epoch this many batches in (for resuming mid-epoch).

    Returns:
        ``tf.data.Dataset`` of float32 (batch_size, S, S, C) in [-1, 1].
    """
    from .._tf import tf

    images = _check_images(images)
    indices, flips = batch_plan(len(images), batch_size, seed, epoch, shuffle, flip)
    pixels = _as_tensor(images)

    def assemble(index, mirror):
        batch = _tf_scale(tf.gather(pixels, index))
        return tf.where(mirror[:, None, None, None], tf.reverse(batch, axis=[2]), batch)

    dataset = tf.data.Dataset.from_tensor_slices((indices[skip_batches:], flips[skip_batches:]))
    return dataset.map(assemble, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


_TENSOR_CACHE: dict[int, tuple[np.ndarray, object]] = {}


def _as_tensor(images: np.ndarray):
    """Hold one tensor copy of an image array, reused across epochs."""
    from .._tf import tf

    key = id(images)
    cached = _TENSOR_CACHE.get(key)
    if cached is None or cached[0] is not images:
        _TENSOR_CACHE.clear()
        cached = (images, tf.constant(images))
        _TENSOR_CACHE[key] = cached
    return cached[1]
