"""Pictures: image grids, progress GIFs, loss and score curves.

Functions take arrays and histories, never models or files they must discover.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .batches import unscale_images
from .files import atomic_path


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
    with atomic_path(path) as tmp:
        grid.save(tmp)
    return path


def plot_image_grid(images, ncols: int | None = None, title: str | None = None, ax=None,
                    figsize=(6, 6), interpolation: str = "nearest", row_labels=None):
    """Show :func:`make_image_grid` with matplotlib; returns the axes.

    ``interpolation="nearest"`` keeps pixels sharp (and stored notebook PNGs small).
    ``row_labels``: one text per row of the grid, written to its left.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    padding = 2
    grid = make_image_grid(images, ncols, padding=padding)
    ax.imshow(grid, interpolation=interpolation)
    ax.set_axis_off()
    if row_labels is not None:
        step = np.shape(images)[1] + padding  # one row of images and its padding
        rows = (grid.shape[0] - padding) // step
        if len(row_labels) != rows:
            raise ValueError(f"row_labels has {len(row_labels)} entries for {rows} rows")
        for row, text in enumerate(row_labels):
            ax.text(-4, padding + (row + 0.5) * step, text, ha="right", va="center", fontsize=8)
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
    with atomic_path(path) as tmp:
        images[0].save(tmp, save_all=True, append_images=images[1:], duration=durations,
                       loop=0, optimize=False)
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
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight")
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
    from .._tf import keras

    if not graphviz_available():
        return None
    path = Path(path)
    options = dict(show_shapes=True, show_layer_names=False, show_layer_activations=True, dpi=dpi)
    with atomic_path(path) as tmp:  # plot_model picks the format by the ending, as tmp has it
        keras.utils.plot_model(model, to_file=str(tmp), **{**options, **plot_options})
    return path


def plot_image_rows(rows, labels=None, figsize=None, interpolation: str = "nearest"):
    """Show several batches one above the other, each row with its own title.

    Args:
        rows: a list of image batches, each uint8 [0, 255] or float [-1, 1] of shape
            (N, H, W, C); every batch is drawn as one row of N images.
        labels: one title per row (default: none).
        figsize: matplotlib size in inches (default: wide enough for the longest row).

    Returns:
        The list of axes, one per row.
    """
    import matplotlib.pyplot as plt

    rows = [np.asarray(row) for row in rows]
    if not rows:
        raise ValueError("plot_image_rows needs at least one row of images")
    if labels is not None and len(labels) != len(rows):
        raise ValueError(f"labels has {len(labels)} entries for {len(rows)} rows; give one per row")
    if figsize is None:
        longest = max(len(row) for row in rows)
        figsize = (min(1.0 * longest, 12), 1.3 * len(rows))
    fig, axes = plt.subplots(len(rows), 1, figsize=figsize, squeeze=False)
    axes = list(axes[:, 0])
    for i, (ax, row) in enumerate(zip(axes, rows)):
        ax.imshow(make_image_grid(row, ncols=len(row)), interpolation=interpolation)
        ax.set_axis_off()
        if labels is not None:
            ax.set_title(labels[i], fontsize=9)
    fig.tight_layout()
    return axes


def generator_loss_gradients(d_fake) -> dict[str, np.ndarray]:
    """Gradients of G's two classic losses with respect to D's logit, at given D(G(z)).

    D ends in a sigmoid: D(G(z)) = s = sigmoid(a) for the logit a. Then

    - the non-saturating loss -log s (binary cross-entropy against target 1, what the
      combined model trains) has d/da = -(1 - s): largest when D rejects the fake;
    - the minimax loss log(1 - s) (Goodfellow et al. 2014) has d/da = -s: it vanishes
      when D rejects the fake.

    Args:
        d_fake: D(G(z)) values in [0, 1], any shape.

    Returns:
        ``{"non_saturating": ..., "minimax": ...}``, float64 arrays shaped like ``d_fake``
        (both <= 0: a gradient-descent step raises the logit).
    """
    s = np.asarray(d_fake, dtype=np.float64)
    if s.size == 0 or np.any(~np.isfinite(s)) or s.min() < 0 or s.max() > 1:
        raise ValueError("d_fake must be a non-empty array of probabilities in [0, 1]")
    return {"non_saturating": -(1.0 - s), "minimax": -s}


def plot_generator_loss_gradients(ax=None, num_points: int = 201):
    """Plot how hard each generator loss pushes D's logit, against D(G(z)).

    Draws |d loss / d logit| from :func:`generator_loss_gradients` for D(G(z)) from 0
    to 1: the non-saturating loss (what ``gh.build_gan`` trains) and the minimax loss.

    Returns:
        The axes; its two lines hold the curves (non-saturating first).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.2))
    d_fake = np.linspace(0.0, 1.0, num_points)
    gradients = generator_loss_gradients(d_fake)
    ax.plot(d_fake, np.abs(gradients["non_saturating"]),
            label="non-saturating: −log D(G(z)) (the combined model)")
    ax.plot(d_fake, np.abs(gradients["minimax"]), linestyle="--",
            label="minimax: log(1 − D(G(z)))")
    ax.axvspan(0.0, 0.1, color="gray", alpha=0.15, linewidth=0)
    ax.text(0.015, 0.5, "D rejects\nthe fakes", fontsize=8, va="center")
    ax.set(xlim=(0, 1), ylim=(0, 1.4), xlabel="D(G(z))",
           ylabel="|∂ loss / ∂ logit|", title="How hard each loss pushes G")
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.legend(fontsize=8, loc="upper center")  # above the curves, which stay below 1
    ax.grid(alpha=0.2)
    return ax


def plot_minibatch_std(scores, ax=None, log_scale: bool = True):
    """Bar chart of the minibatch standard-deviation feature, group by group.

    Args:
        scores: ``{name: values}``, each values a 1-D array with one number per group
            (what :class:`gan_helpers.core.models.MinibatchStdDev` appends for that group).
        log_scale: a logarithmic y axis, so a near-0 bar stays visible next to a tall one.

    Returns:
        The axes; one bar container per entry of ``scores``, in order.
    """
    import matplotlib.pyplot as plt

    if not scores:
        raise ValueError("scores must name at least one batch: {name: per-group values}")
    arrays = {name: np.asarray(values, dtype=np.float64) for name, values in scores.items()}
    for name, values in arrays.items():
        if values.ndim != 1 or len(values) == 0:
            raise ValueError(f"scores[{name!r}] must be a non-empty 1-D array, got shape {values.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    width = 0.8 / len(arrays)
    for i, (name, values) in enumerate(arrays.items()):
        positions = np.arange(1, len(values) + 1) + (i - (len(arrays) - 1) / 2) * width
        ax.bar(positions, values, width=width, label=name)
    if log_scale:
        ax.set_yscale("log")
        values = np.concatenate(list(arrays.values()))
        positive = values[values > 0]
        if len(positive):  # room below the smallest bar and above the tallest for the legend
            ax.set_ylim(positive.min() / 3, positive.max() * 5)
    ax.set(xlabel="group of images", ylabel="minibatch-std feature",
           title="What the minibatch-std layer tells D")
    ax.legend(fontsize=8, loc="upper right")
    return ax
