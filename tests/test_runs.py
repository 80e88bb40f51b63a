"""Finding a run to reuse, and the preset it follows."""
import json

import pytest

import gan_helpers as gh

TINY = dict(image_size=32, batch_size=16, filters=8, latent_dim=16)


def _fake_run(run_dir, step=10, complete=True, config=True):
    """A run folder with a checkpoint pointer and, if ``complete``, the checkpoint it names."""
    checkpoints = run_dir / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "latest").write_text(f"ckpt-{step:08d}\n", encoding="utf-8")
    folder = checkpoints / f"ckpt-{step:08d}"
    folder.mkdir()
    if complete:
        (folder / "state.json").write_text(json.dumps({"epoch": 1, "step": step}), encoding="utf-8")
        for name in set(gh.core.checkpoint.FILES) - {"state.json"}:  # no manifest: all six needed
            (folder / name).write_bytes(b"")
    if config:
        meta = {"config": {}, "data": "cartoon-faces", "seed": 0, "num_images": 10}
        (run_dir / "config.json").write_text(json.dumps(meta), encoding="utf-8")
    return run_dir


def test_find_run_returns_the_first_candidate_with_a_checkpoint(tmp_path):
    first = _fake_run(tmp_path / "default")
    second = _fake_run(tmp_path / "notebook_04")
    assert gh.find_run([first, second]) == first
    assert gh.find_run([str(tmp_path / "missing"), second, first]) == second


def test_find_run_skips_folders_without_a_usable_checkpoint(tmp_path):
    empty = tmp_path / "empty"
    (empty / "checkpoints").mkdir(parents=True)
    half_written = _fake_run(tmp_path / "half", complete=False)  # killed before any checkpoint
    no_config = _fake_run(tmp_path / "no_config", config=False)
    cut_short = _fake_run(tmp_path / "cut_short")  # a copy that never finished: the one
    (cut_short / "config.json").write_text('{"config": {', encoding="utf-8")  # opener refuses it
    good = _fake_run(tmp_path / "good")
    candidates = [tmp_path / "missing", None, empty, half_written, no_config, cut_short]
    assert gh.find_run(candidates) is None
    assert gh.find_run(candidates + [good]) == good
    assert gh.find_run([]) is None


def test_find_run_wants_a_list_not_one_folder(tmp_path):
    run_dir = _fake_run(tmp_path / "run")
    with pytest.raises(ValueError, match="list of run folders"):
        gh.find_run(run_dir)


def test_find_run_returns_a_run_that_load_run_can_open(faces32, tmp_path):
    run_dir = tmp_path / "run"
    gh.train(images=faces32[:32], run_dir=run_dir, epochs=1, progress=False, **TINY)
    assert gh.find_run([tmp_path / "other", run_dir]) == run_dir
    reopened = gh.load_run(gh.find_run([run_dir]))
    assert (reopened.epoch, reopened.step) == (1, 2)
    assert gh.find_preset(reopened.config) is None  # TINY changed the recipe's shape


def test_find_preset_names_a_presets_run_whatever_its_length():
    assert gh.find_preset(gh.make_config("cartoon")) == "cartoon"
    assert gh.find_preset(gh.make_config("cartoon", epochs=6)) == "cartoon"
    assert gh.find_preset(gh.make_config("dcgan", images_shown=50_000)) == "dcgan"
    assert gh.find_preset(gh.make_config("cartoon", precision="mixed_bfloat16")) == "cartoon"
    assert gh.find_preset(gh.make_config("mlwhiz")) == "mlwhiz"
    assert gh.find_preset(gh.make_config("cartoon-v5")) == "cartoon-v5"
    assert gh.find_preset(gh.GANConfig()) == "cartoon"


def test_find_preset_returns_none_for_a_changed_recipe():
    assert gh.find_preset(gh.make_config("cartoon", lr_g=1e-4)) is None
    assert gh.find_preset(gh.make_config("cartoon", epochs=6), ignore=()) is None
    saved = gh.GANConfig.from_dict(json.loads(json.dumps(gh.make_config("dcgan").to_dict())))
    assert gh.find_preset(saved) == "dcgan"  # a config read back from config.json (lists)
