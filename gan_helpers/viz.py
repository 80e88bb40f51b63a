"""Pictures: image grids, progress GIFs, loss and score curves.

Functions take arrays and histories, never models or files they must discover.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .data import unscale_images


def make_image_grid(images, ncols: int | None = None, padding: int = 2,
                    background: int = 255) -> np.ndarray:
    """Tile images into one uint8 RGB array.

    Args:
        images: uint8 [0, 255] or float [-1, 1], shape (N, H, W, C) with C in {1, 3}.
        ncols: images per row (default: a near-square grid).
        padding: pixels between images.

    Returns:
        uint8 (rows * (H + padding) + padding, cols * (W + padding) + padding, 3).
    """
    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"images must be a non-empty (N, H, W, C) array, got shape {images.shape}")
    if images.dtype != np.uint8:
        images = unscale_images(images)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    count, height, width, _ = images.shape
    ncols = ncols or int(np.ceil(np.sqrt(count)))
    nrows = int(np.ceil(count / ncols))
    grid = np.full((nrows * (height + padding) + padding, ncols * (width + padding) + padding, 3),
                   background, np.uint8)
    for i, image in enumerate(images):
        row, col = divmod(i, ncols)
        top, left = padding + row * (height + padding), padding + col * (width + padding)
        grid[top:top + height, left:left + width] = image
    return grid


def save_image_grid(images, path, ncols: int | None = None, scale: int = 1) -> Path:
    """Write :func:`make_image_grid` as a PNG (``scale`` enlarges it, nearest-neighbour)."""
    grid = Image.fromarray(make_image_grid(images, ncols))
    if scale > 1:
        grid = grid.resize((grid.width * scale, grid.height * scale), Image.Resampling.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid.save(path)
    return path


def plot_image_grid(images, ncols: int | None = None, title: str | None = None, ax=None,
                    figsize=(6, 6), interpolation: str = "nearest"):
    """Show :func:`make_image_grid` with matplotlib; returns the axes.

    ``interpolation="nearest"`` keeps pixels sharp (and stored notebook PNGs small).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    ax.imshow(make_image_grid(images, ncols), interpolation=interpolation)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def save_progress_gif(frames, path, duration_ms: int = 400, hold_last_ms: int = 1500) -> Path:
    """Assemble PNG files (or arrays) into a looping GIF; the last frame is held longer.

    Args:
        frames: paths of PNG images or uint8 (H, W, 3) arrays, in order.
        path: the GIF to write.
    """
    images = []
    for frame in frames:
        if isinstance(frame, (str, Path)):
            with Image.open(frame) as image:
                images.append(image.convert("RGB"))
        else:
            images.append(Image.fromarray(np.asarray(frame, np.uint8)))
    if not images:
        raise ValueError("save_progress_gif needs at least one frame")
    durations = [duration_ms] * (len(images) - 1) + [hold_last_ms]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], duration=durations, loop=0,
                   optimize=False)
    return path


def _column(history, key) -> np.ndarray:
    if isinstance(history, dict):
        return np.asarray(history[key], dtype=np.float64)
    return np.asarray([row[key] for row in history], dtype=np.float64)


def default_window(length: int) -> int:
    """A smoothing window that suits a history of ``length`` points (1 to 50)."""
    return max(1, min(50, length // 20))


def smooth(values, window: int) -> np.ndarray:
    """Trailing moving average (the first values average what exists so far)."""
    values = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(values) == 0:
        return values
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    out = np.empty_like(values)
    for i in range(len(values)):
        lo = max(0, i + 1 - window)
        out[i] = (cumsum[i + 1] - cumsum[lo]) / (i + 1 - lo)
    return out


def _plot_keys(history, keys, labels, ylabel, title, ax, window, steps_per_epoch, hline=None):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    if window is None:
        window = default_window(len(_column(history, keys[0])))
    steps = _column(history, "step") if _has(history, "step") else None
    for key, label in zip(keys, labels):
        values = _column(history, key)
        x = steps if steps is not None else np.arange(1, len(values) + 1)
        ax.plot(x, values, alpha=0.25, linewidth=0.8)
        ax.plot(x, smooth(values, window), color=ax.lines[-1].get_color(), label=label)
    if hline is not None:
        ax.axhline(hline, color="gray", linestyle=":", linewidth=1)
    if steps_per_epoch:
        last = (steps[-1] if steps is not None else len(_column(history, keys[0])))
        for boundary in range(steps_per_epoch, int(last) + 1, steps_per_epoch):
            ax.axvline(boundary, color="gray", alpha=0.15, linewidth=0.8)
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="best")
    ax.grid(alpha=0.2)
    return ax


def _has(history, key) -> bool:
    if isinstance(history, dict):
        return key in history
    return bool(history) and key in history[0]


def plot_losses(history, ax=None, window: int | None = None, steps_per_epoch: int | None = None):
    """Discriminator and generator loss per iteration (faint) and smoothed (solid).

    ``window`` is the moving-average length (default: about 1/20 of the history).
    """
    return _plot_keys(history, ["d_loss", "g_loss"], ["D loss", "G loss"], "binary cross-entropy",
                      "Losses", ax, window, steps_per_epoch)


def plot_scores(history, ax=None, window: int | None = None, steps_per_epoch: int | None = None):
    """Mean D(x) on real images and D(G(z)) on fakes per iteration; 0.5 is "can't tell"."""
    ax = _plot_keys(history, ["d_real", "d_fake"], ["D(x) real", "D(G(z)) fake"],
                    "discriminator output", "Discriminator scores", ax, window, steps_per_epoch,
                    hline=0.5)
    ax.set_ylim(0, 1)
    return ax


def save_figure(fig, path) -> Path:
    """Save a matplotlib figure as PNG and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def graphviz_available() -> bool:
    """True when ``keras.utils.plot_model`` can draw (needs pydot and Graphviz's ``dot``)."""
    try:
        import pydot

        pydot.Dot.create(pydot.Dot())
        return True
    except Exception:  # noqa: BLE001 - missing module or missing `dot` binary
        return False


def save_model_diagram(model, path, dpi: int = 60, **plot_options):
    """Draw ``model`` layer by layer with shapes (``keras.utils.plot_model``).

    Args:
        plot_options: more ``keras.utils.plot_model`` options, e.g. ``rankdir="LR"``.

    Returns:
        The PNG path, or None when pydot or Graphviz is missing (then show
        ``model.summary()`` instead; install with ``pip install pydot`` and
        ``apt-get install graphviz``).
    """
    from ._tf import keras

    if not graphviz_available():
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = dict(show_shapes=True, show_layer_names=False, show_layer_activations=True, dpi=dpi)
    keras.utils.plot_model(model, to_file=str(path), **{**options, **plot_options})
    return path
