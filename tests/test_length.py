"""A run's length: images shown (the default) or epochs, on any dataset's size."""
import json

import numpy as np
import pytest
from PIL import Image

import gan_helpers as gh
from gan_helpers.core import data, training
from gan_helpers.core.config import GANConfig, make_config

TINY = dict(image_size=32, batch_size=16, filters=8, latent_dim=16)


def _plan(config, repeat=None, quick=False):
    return training.RunPlan(config, None, "folder", 0, None, repeat, None, quick_length=quick)


def test_the_recipes_count_images_and_epochs_given_alone_count_epochs():
    assert GANConfig().images_shown == 460_000 and make_config("cartoon").images_shown == 460_000
    assert make_config("dcgan").images_shown == 120_000
    assert make_config("cartoon", epochs=3).images_shown == 0  # the run counts epochs
    assert make_config("dcgan", images_shown=5_000).images_shown == 5_000
    with pytest.raises(ValueError, match="epochs or as images_shown, not both"):
        make_config("cartoon", epochs=3, images_shown=5_000)
    # A config.json written before runs counted images: its length was its epochs.
    saved = {k: v for k, v in GANConfig().to_dict().items() if k != "images_shown"}
    assert GANConfig.from_dict(saved).images_shown == 0
    with pytest.raises(ValueError, match="images_shown must be a positive integer"):
        GANConfig(images_shown=-1)


@pytest.mark.parametrize("unique,repeat,epochs", [
    (10_000, 1, 46),   # the built-in faces train exactly as the recipe was measured
    (2_400, 5, 38),    # a hand-drawn folder: 12,000 images per epoch
    (4_495, 3, 34),    # OpenMoji
    (102, 99, 46),     # the Noto emoji faces
])
def test_any_dataset_gets_the_default_budget(monkeypatch, unique, repeat, epochs):
    monkeypatch.setattr(training, "default_image_count", lambda: 10_000)
    plan = _plan(GANConfig())
    training.settle_length(plan, unique)
    assert (plan.repeat, plan.config.epochs) == (repeat, epochs)
    shown = epochs * (unique * repeat // 32) * 32
    assert abs(shown - 460_000) / 460_000 < 0.03


def test_a_given_repeat_and_a_run_counted_in_epochs_are_left_alone(monkeypatch):
    monkeypatch.setattr(training, "default_image_count", lambda: 10_000)
    plan = _plan(GANConfig(), repeat=2)
    training.settle_length(plan, 4_000)
    assert (plan.repeat, plan.config.epochs) == (2, round(460_000 / 8_000))
    plan = _plan(make_config(epochs=7))
    training.settle_length(plan, 102)
    assert (plan.repeat, plan.config.epochs) == (1, 7)  # an epoch is one pass, as asked


def test_quick_mode_shortens_either_unit_to_two_epochs(monkeypatch):
    monkeypatch.setattr(training, "default_image_count", lambda: 256)
    plan = _plan(GANConfig(), quick=True)
    training.settle_length(plan, 64)
    assert plan.repeat == 4 and plan.config.epochs == 2 and plan.config.images_shown == 512
    plan = _plan(make_config(epochs=9), quick=True)
    training.settle_length(plan, 64)
    assert plan.repeat == 1 and plan.config.epochs == 2
    # plan_run asks for the shortening only when the length was not given
    monkeypatch.setattr(training, "QUICK", True)
    given = dict(image_size=32)
    assert training.plan_run("x", "cartoon", None, None, False, 0, None, None, given).quick_length
    given = dict(image_size=32, images_shown=1_000)
    assert not training.plan_run("x", "cartoon", None, None, False, 0, None, None,
                                 given).quick_length


def test_a_new_run_counted_in_images_repeats_a_small_dataset(faces32, tmp_path, monkeypatch,
                                                             capsys):
    monkeypatch.setattr(training, "default_image_count", lambda: 64)
    run = gh.train(images=faces32[:24], run_dir=tmp_path / "run", images_shown=200, **TINY)
    # 24 images x 3 = 72 per epoch = 4 steps of 16 = 64 images; 200 / 64 -> 3 epochs
    assert (run.epoch, run.step) == (3, 12)
    out = capsys.readouterr().out
    assert "each shown 3 times per epoch" in out and "(192 images shown)" in out
    assert "images=64," in out and "images=192," in out  # the bars count images as well
    saved = json.loads((run.run_dir / "config.json").read_text())
    assert saved["repeat"] == 3 and saved["num_images"] == 24
    assert saved["config"]["images_shown"] == 200 and saved["config"]["epochs"] == 3
    assert gh.read_history(run.run_dir)[-1]["images"] == 12 * 16

    # Resumed, it keeps its unit and its repeats: more images, more epochs.
    more = gh.train(run_dir=run.run_dir, resume=True, images=faces32[:24], images_shown=320,
                    progress=False)
    assert (more.epoch, more.step, more.config.images_shown) == (5, 20, 320)
    with pytest.raises(ValueError, match="counts its length in images_shown"):
        gh.train(run_dir=run.run_dir, resume=True, images=faces32[:24], epochs=9,
                 progress=False)


def test_a_run_counted_in_epochs_keeps_counting_epochs(faces32, tmp_path):
    run = gh.train(images=faces32[:32], run_dir=tmp_path / "run", epochs=1, progress=False, **TINY)
    assert (run.step, run.config.images_shown) == (2, 0)
    with pytest.raises(ValueError, match="counts its length in epochs"):
        gh.train(run_dir=run.run_dir, resume=True, images=faces32[:32], images_shown=5_000,
                 progress=False)
    # A run folder from before runs counted images resumes in epochs.
    path = run.run_dir / "config.json"
    meta = json.loads(path.read_text())
    del meta["config"]["images_shown"]
    path.write_text(json.dumps(meta))
    more = gh.train(run_dir=run.run_dir, resume=True, images=faces32[:32], epochs=2,
                    progress=False)
    assert (more.epoch, more.step) == (2, 4)


def test_both_units_at_once_are_refused_before_anything_is_written(faces32, tmp_path):
    with pytest.raises(ValueError, match="not both"):
        gh.train(images=faces32[:32], run_dir=tmp_path / "run", epochs=2, images_shown=500,
                 progress=False, **TINY)
    assert not (tmp_path / "run").exists()
    with pytest.raises(ValueError, match="not both"):
        gh.train(config=GANConfig(**TINY), images=faces32[:32], run_dir=tmp_path / "run",
                 epochs=2, images_shown=500, progress=False)


def test_the_data_line_names_files_unreadable_ones_and_source_sizes(tmp_path):
    folder = tmp_path / "drawings"
    folder.mkdir()
    for i, side in enumerate((40, 60, 80)):
        Image.new("RGB", (side, side + 10), (i * 50, 90, 200)).save(folder / f"{i}.png")
    (folder / "broken.png").write_bytes(b"not a png")
    with pytest.warns(UserWarning, match="broken.png"):
        images = data.load_dataset(str(folder), 32, progress=False)
    whole, warning = data.describe_dataset(str(folder), images)
    assert whole == (f"{folder}: 4 image files, 1 could not be read; scaled from 60x70 px "
                    f"(median; smallest side 40 px) to 32 px")
    assert warning is not None and "3 images is few" in warning
    line, warning = data.describe_dataset(str(folder), images[:2], limit=2)
    assert "the first 2 used" in line and "could not be read" not in line
    # a zip of the same files reads the same (its sizes from the members' headers)
    import zipfile
    archive = tmp_path / "drawings.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.iterdir()):
            zipped.write(path, path.name)
    assert data.describe_dataset(str(archive), images)[0] == whole.replace(str(folder), str(archive))
    sizes, unreadable = data.scan_image_sizes(archive, limit=4)
    assert sorted(map(tuple, sizes)) == [(40, 50), (60, 70), (80, 90)] and len(unreadable) == 1
    many = np.zeros((2_000, 8, 8, 3), np.uint8)
    assert data.describe_dataset("cartoon-faces", many)[1] is None
    assert data.describe_dataset("noto-emoji", many[:20])[1] is not None
