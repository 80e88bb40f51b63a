"""One progress bar for the package: tqdm's text bar on standard output, never a widget."""
import pytest
from tqdm.std import tqdm

from gan_helpers.core import data
from gan_helpers.core.progress import progress_bar


def test_the_bar_is_tqdms_text_bar_on_stdout(capsys):
    bar = progress_bar(total=3, desc="counting", unit="step")
    assert type(bar) is tqdm  # not tqdm.notebook's widget, whose saved notebook keeps "0%|"
    for _ in range(3):
        bar.update(1)
    bar.close()
    captured = capsys.readouterr()
    assert "counting" in captured.out and "3/3" in captured.out
    assert captured.err == ""


def test_a_disabled_bar_draws_nothing_and_passes_items_through(capsys):
    assert list(progress_bar(range(4), enabled=False)) == [0, 1, 2, 3]
    assert capsys.readouterr().out == ""


def test_rendering_and_decoding_show_the_same_bar(capsys, tmp_path):
    data.render_cartoon_faces(2, 16, seed=3, progress=True)
    captured = capsys.readouterr()
    assert "rendering cartoon faces" in captured.out and captured.err == ""
    data.make_messy_folder(tmp_path / "messy", count=6)
    capsys.readouterr()
    with pytest.warns(UserWarning, match="skipped 3 of"):  # its three broken files
        data.load_image_folder(tmp_path / "messy", 16, cache_dir=False, progress=True)
    captured = capsys.readouterr()
    assert "decoding messy" in captured.out
