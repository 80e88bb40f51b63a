import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from gan_helpers.core import viz  # noqa: E402


def test_grid_layout_and_value_ranges():
    floats = np.linspace(-1, 1, 5 * 8 * 6 * 1).reshape(5, 8, 6, 1)
    grid = viz.make_image_grid(floats, ncols=3, padding=1)
    assert grid.shape == (2 * 9 + 1, 3 * 7 + 1, 3) and grid.dtype == np.uint8
    assert grid[1:9, 1:7].min() == 0  # -1 maps to black
    assert (grid[0] == 255).all()  # padding is white
    with pytest.raises(ValueError, match="non-empty"):
        viz.make_image_grid(np.zeros((0, 4, 4, 3)))


def test_grid_row_labels_sit_beside_their_rows():
    import matplotlib.pyplot as plt

    images = np.zeros((6, 8, 8, 3), np.uint8)
    ax = viz.plot_image_grid(images, ncols=2, row_labels=["a", "b", "c"])
    texts = {t.get_text(): t.get_position() for t in ax.texts}
    assert list(texts) == ["a", "b", "c"]
    centres = [texts[k][1] for k in "abc"]  # 2 + (row + 0.5) * 10 px down the grid
    assert centres == pytest.approx([7.0, 17.0, 27.0])
    with pytest.raises(ValueError, match="2 entries for 3 rows"):
        viz.plot_image_grid(images, ncols=2, row_labels=["a", "b"])
    plt.close("all")


def test_save_grid_and_gif(tmp_path):
    frames = []
    for i in range(3):
        images = np.full((4, 8, 8, 3), 60 * i, np.uint8)
        frames.append(viz.save_image_grid(images, tmp_path / f"f{i}.png", scale=2))
    with Image.open(frames[0]) as first:
        assert first.size == (2 * (2 * 10 + 2), 2 * (2 * 10 + 2))
    gif = viz.save_progress_gif(frames, tmp_path / "p.gif", duration_ms=100, hold_last_ms=900)
    with Image.open(gif) as animation:
        assert animation.n_frames == 3
        animation.seek(2)
        assert animation.info["duration"] == 900
    with pytest.raises(ValueError, match="at least one frame"):
        viz.save_progress_gif([], tmp_path / "empty.gif")


def test_curves_plot_every_series(tmp_path):
    history = [{"step": i + 1, "d_loss": 0.7, "g_loss": 1.0 + i / 100, "d_real": 0.8,
                "d_fake": 0.2} for i in range(100)]
    ax = viz.plot_losses(history, window=10, steps_per_epoch=25)
    assert [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")] \
        == ["D loss", "G loss"]
    assert viz.save_figure(ax.figure, tmp_path / "l.png").stat().st_size > 1000
    ax = viz.plot_scores(history)
    assert ax.get_ylim() == (0, 1)


def test_smooth_is_a_trailing_mean():
    assert np.allclose(viz.smooth([0, 2, 4, 6], 2), [0, 1, 3, 5])
    assert np.allclose(viz.smooth([1, 2, 3], 1), [1, 2, 3])


def test_model_diagram_or_a_clear_none(tmp_path, monkeypatch):
    from gan_helpers import build_discriminator

    model = build_discriminator(image_size=32, filters=8)
    path = viz.save_model_diagram(model, tmp_path / "d.png")
    if viz.graphviz_available():
        assert path.exists() and path.stat().st_size > 1000
    else:
        assert path is None
    monkeypatch.setattr(viz, "graphviz_available", lambda: False)
    assert viz.save_model_diagram(model, tmp_path / "none.png") is None
