"""The training loop: files, history, resume, atomic checkpoints, NaN handling."""
import json

import numpy as np
import pytest

import gan_helpers as gh
from gan_helpers.core import checkpoint, training

TINY = dict(image_size=32, batch_size=16, filters=8, latent_dim=16)


def _train(faces32, run_dir, epochs=1, **kwargs):
    return gh.train(images=faces32[:64], run_dir=run_dir, epochs=epochs, progress=False,
                    **{**TINY, **kwargs})


def test_a_run_writes_history_grids_gif_curves_and_checkpoint(faces32, tmp_path):
    run = _train(faces32, tmp_path / "run", epochs=2)
    assert run.step == 8 and run.epoch == 2  # 64 images / 16 = 4 steps per epoch
    files = {p.relative_to(run.run_dir).as_posix() for p in run.run_dir.rglob("*") if p.is_file()}
    for name in ["config.json", "fixed_noise.npy", "history.csv", "history.json",
                 "progress/epoch_0001.png", "progress/epoch_0002.png", "progress.gif",
                 "losses.png", "scores.png", "samples.png", "checkpoints/latest"]:
        assert name in files, name
    history = gh.read_history(run.run_dir)
    assert [row["step"] for row in history] == list(range(1, 9))
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(history[0])
    csv_lines = (run.run_dir / "history.csv").read_text().splitlines()
    assert csv_lines[0].startswith("step,epoch,images,d_loss") and len(csv_lines) == 9
    assert [row["images"] for row in history] == [16 * step for step in range(1, 9)]
    assert np.array_equal(np.load(run.run_dir / "fixed_noise.npy"), run.fixed_noise)
    assert run.fixed_noise.shape == (training.FIXED_NOISE_COUNT, 16)


def test_resume_continues_steps_history_and_fixed_noise(faces32, tmp_path):
    run_dir = tmp_path / "run"
    first = _train(faces32, run_dir, epochs=1)
    resumed = gh.train(run_dir=run_dir, resume=True, epochs=3, images=faces32[:64], progress=False)
    assert resumed.step == 12 and resumed.epoch == 3
    assert [row["step"] for row in resumed.history] == list(range(1, 13))
    assert resumed.history[:4] == first.history
    assert np.array_equal(resumed.fixed_noise, first.fixed_noise)
    assert resumed.config.image_size == 32  # taken from the run, not the defaults
    assert sorted(p.name for p in (run_dir / "progress").glob("*.png"))[-1] == "epoch_0003.png"


def test_resume_auto_starts_a_run_then_continues_it_and_never_discards_it(faces32, tmp_path):
    # A notebook cell run again after a disconnect: the same call picks the run up.
    run_dir = tmp_path / "run"
    first = _train(faces32, run_dir, epochs=1, resume="auto")
    assert first.epoch == 1
    more = _train(faces32, run_dir, epochs=2, resume="auto")
    assert more.step == 8 and more.history[:4] == first.history
    again = _train(faces32, run_dir, epochs=1, resume="auto")  # "Run all" once more
    assert again.step == 8 and again.history == more.history
    assert again.config.epochs == 2  # the run still records its 2 epochs
    with pytest.raises(ValueError, match="True, False or 'auto'"):
        _train(faces32, run_dir, resume="yes")


def _without_time(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def test_resumed_run_equals_an_uninterrupted_one_on_cpu(faces32, tmp_path):
    straight = _train(faces32, tmp_path / "a", epochs=2)
    _train(faces32, tmp_path / "b", epochs=1)
    resumed = gh.train(run_dir=tmp_path / "b", resume=True, epochs=2, images=faces32[:64],
                       progress=False)
    # Same data order, noise, labels and optimiser state: bit-identical on one CPU.
    for a, b in zip(straight.generator.get_weights() + straight.discriminator.get_weights(),
                    resumed.generator.get_weights() + resumed.discriminator.get_weights()):
        assert np.array_equal(a, b)
    assert _without_time(straight.history) == _without_time(resumed.history)


def test_classic_and_fused_runs_agree_and_resume_each_other(faces32, tmp_path):
    fused = _train(faces32, tmp_path / "a", epochs=2)
    _train(faces32, tmp_path / "b", epochs=1, step="classic")
    mixed = gh.train(run_dir=tmp_path / "b", resume=True, epochs=2, images=faces32[:64],
                     progress=False)  # fused from here on
    for a, b in zip(fused.generator.get_weights(), mixed.generator.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
    with pytest.raises(ValueError, match="step must be 'fused' or 'classic'"):
        _train(faces32, tmp_path / "c", step="fast")


def test_same_seed_same_run_other_seed_other_run(faces32, tmp_path):
    a = _train(faces32, tmp_path / "a", seed=5)
    b = _train(faces32, tmp_path / "b", seed=5)
    c = _train(faces32, tmp_path / "c", seed=6)
    assert _without_time(a.history) == _without_time(b.history)
    assert np.array_equal(a.fixed_noise, b.fixed_noise)
    assert all(np.array_equal(x, y) for x, y in zip(a.generator.get_weights(),
                                                     b.generator.get_weights()))
    assert not np.array_equal(a.fixed_noise, c.fixed_noise)
    assert a.history[-1]["g_loss"] != c.history[-1]["g_loss"]


def test_optimizer_state_survives_a_checkpoint(faces32, tmp_path):
    run = _train(faces32, tmp_path / "run")
    loaded = gh.load_run(tmp_path / "run")
    for a, b in zip(run.gan.optimizer.variables, loaded.gan.optimizer.variables):
        assert np.array_equal(a.numpy(), b.numpy())
    for a, b in zip(run.discriminator.optimizer.variables, loaded.discriminator.optimizer.variables):
        assert np.array_equal(a.numpy(), b.numpy())
    assert int(loaded.discriminator.optimizer.iterations.numpy()) == run.step  # one D update per step


def test_a_crash_while_writing_leaves_the_previous_checkpoint_latest(faces32, tmp_path, monkeypatch):
    run = _train(faces32, tmp_path / "run")
    before = checkpoint.latest_checkpoint(run.checkpoint_dir)

    def broken(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(checkpoint, "optimizer_state", broken)
    with pytest.raises(OSError, match="simulated"):
        checkpoint.save_checkpoint(run.checkpoint_dir, 999, run.generator, run.discriminator,
                                   run.gan, {"step": 999}, {"fixed_noise": run.fixed_noise})
    assert checkpoint.latest_checkpoint(run.checkpoint_dir) == before
    assert not list(run.checkpoint_dir.glob(".writing-*"))
    assert not (run.checkpoint_dir / "ckpt-00000999").exists()


def test_old_checkpoints_are_pruned(faces32, tmp_path):
    run = _train(faces32, tmp_path / "run", epochs=4)
    kept = sorted(p.name for p in run.checkpoint_dir.glob("ckpt-*"))
    assert kept == ["ckpt-00000012", "ckpt-00000016"]


@pytest.mark.parametrize("step", ["fused", "classic"])
def test_nan_stops_the_run_and_keeps_the_last_checkpoint(faces32, tmp_path, monkeypatch, step):
    run_dir = tmp_path / "run"
    _train(faces32, run_dir, epochs=1)
    good = checkpoint.latest_checkpoint(run_dir / "checkpoints")
    state_before = (good / "state.json").read_text()
    if step == "classic":
        owner, name = training, "train_step"
    else:
        owner, name = training.FusedStep, "__call__"
    real_step, calls = getattr(owner, name), []

    def poisoned(*args, **kwargs):
        calls.append(1)
        logs = real_step(*args, **kwargs)
        return {**logs, "g_loss": float("nan")} if len(calls) == 3 else logs

    monkeypatch.setattr(owner, name, poisoned)
    with pytest.raises(gh.TrainingDiverged, match=r"step 7 produced g_loss=nan.*ckpt-00000004"):
        gh.train(run_dir=run_dir, resume=True, epochs=2, images=faces32[:64], progress=False,
                 step=step)
    assert checkpoint.latest_checkpoint(run_dir / "checkpoints") == good
    assert (good / "state.json").read_text() == state_before


@pytest.mark.parametrize("knob, column", [("r1_gamma", "d_r1")])
def test_a_fused_only_term_logs_its_column_and_keeps_its_weight_on_resume(faces32, tmp_path,
                                                                         knob, column):
    run_dir = tmp_path / "run"
    first = _train(faces32, run_dir, epochs=1, **{knob: 1.0})
    assert all(row[column] > 0 for row in first.history)
    header = (run_dir / "history.csv").read_text().splitlines()[0]
    assert header.split(",")[-1] == column
    with pytest.raises(ValueError, match=knob):  # the losses are fixed for the run
        gh.train(run_dir=run_dir, resume=True, epochs=2, progress=False, **{knob: 2.0})
    with pytest.raises(ValueError, match=f"{knob} needs step='fused'"):
        _train(faces32, tmp_path / "classic", step="classic", **{knob: 1.0})


def test_a_run_saved_with_retired_fields_resumes_when_they_were_off_and_is_refused_otherwise(
        faces32, tmp_path):
    import json

    run_dir = tmp_path / "run"
    _train(faces32, run_dir, epochs=1)
    saved = json.loads((run_dir / "config.json").read_text())
    # What an older version of the package wrote: every retired field, switched off.
    saved["config"].update(pack=1, d_augment_p=1.0, g_filters=0, g_upsample="transpose",
                           g_top_filters=0, g_codes=0, mode_seeking=0.0, spread_matching=0.0)
    (run_dir / "config.json").write_text(json.dumps(saved))
    resumed = gh.train(run_dir=run_dir, resume=True, epochs=2, images=faces32[:64], progress=False)
    assert resumed.step == 8 and not hasattr(resumed.config, "pack")
    # A run that used a retired lever cannot be rebuilt: one line names the field.
    saved["config"]["g_codes"] = 2
    (run_dir / "config.json").write_text(json.dumps(saved))
    with pytest.raises(ValueError, match=r"^g_codes=2 was retired from the package") as error:
        gh.load_run(run_dir)
    assert len(str(error.value).splitlines()) == 1


def test_resume_refuses_another_image_size_and_missing_runs(faces32, tmp_path):
    _train(faces32, tmp_path / "run")
    with pytest.raises(ValueError, match="trained with image_size=32, not 64"):
        gh.train(run_dir=tmp_path / "run", resume=True, image_size=64, progress=False)
    with pytest.raises(FileNotFoundError, match="run folder not found"):
        gh.train(run_dir=tmp_path / "nope", resume=True, progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no complete checkpoint"):
        gh.train(run_dir=tmp_path / "empty", resume=True, progress=False)
    with pytest.raises(ValueError, match="already holds a run"):
        _train(faces32, tmp_path / "run")


def test_a_checkpoint_from_another_shape_is_a_clear_error(faces32, tmp_path):
    run = _train(faces32, tmp_path / "run")
    generator, discriminator, gan = training.build_models(gh.make_config(**{**TINY, "latent_dim": 8}))
    with pytest.raises(ValueError, match="does not fit these models"):
        checkpoint.load_checkpoint(checkpoint.latest_checkpoint(run.checkpoint_dir),
                                   generator, discriminator, gan)


def test_checkpoint_every_n_minutes_resumes_mid_epoch(faces32, tmp_path):
    run_dir = tmp_path / "run"
    _train(faces32, run_dir, epochs=1, checkpoint_minutes=1e-9)  # every step
    state = json.loads((checkpoint.latest_checkpoint(run_dir / "checkpoints") / "state.json").read_text())
    assert state["step"] == 4 and state["step_in_epoch"] == 0  # the epoch-end one is last
    kept = sorted(p.name for p in (run_dir / "checkpoints").glob("ckpt-*"))
    assert kept == ["ckpt-00000003", "ckpt-00000004"]
    checkpoint.write_text_atomic(run_dir / "checkpoints" / "latest", "ckpt-00000003\n")
    resumed = gh.train(run_dir=run_dir, resume=True, epochs=1, images=faces32[:64], progress=False)
    assert resumed.step == 4 and [r["step"] for r in resumed.history] == [1, 2, 3, 4]


def test_atomic_writes_keep_ordinary_permissions(tmp_path):
    import os
    import stat

    target = tmp_path / "file.json"
    checkpoint.write_text_atomic(target, "{}")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert target.read_text() == "{}"


def test_repeat_shows_a_small_dataset_several_times_per_epoch_and_survives_resume(faces32, tmp_path):
    run = gh.train(images=faces32[:24], run_dir=tmp_path / "run", epochs=1, progress=False,
                   repeat=2, **TINY)
    assert run.step == 3  # 48 images of batch 16
    saved = json.loads((run.run_dir / "config.json").read_text())
    assert saved["num_images"] == 24 and saved["repeat"] == 2
    resumed = gh.train(run_dir=run.run_dir, resume=True, epochs=2, images=faces32[:24],
                       progress=False)
    assert resumed.step == 6
    with pytest.raises(ValueError, match="repeat must be a positive integer"):
        gh.train(images=faces32[:24], run_dir=tmp_path / "bad", repeat=0, progress=False, **TINY)


def test_history_is_appended_and_a_crash_beyond_the_checkpoint_is_dropped(faces32, tmp_path):
    run_dir = tmp_path / "run"
    first = _train(faces32, run_dir, epochs=1)  # 4 steps
    state = json.loads((checkpoint.latest_checkpoint(run_dir / "checkpoints") / "state.json")
                       .read_text())
    assert "history" not in state and state["history_rows"] == 4  # no history per checkpoint
    jsonl = run_dir / "history.jsonl"
    assert [json.loads(line)["step"] for line in jsonl.read_text().splitlines()] == [1, 2, 3, 4]
    # A crash after the rows of step 5 were appended but before its checkpoint:
    with open(jsonl, "a") as handle:
        handle.write(json.dumps({**first.history[-1], "step": 5}) + "\n")
    resumed = gh.train(run_dir=run_dir, resume=True, epochs=2, images=faces32[:64], progress=False)
    steps = [json.loads(line)["step"] for line in jsonl.read_text().splitlines()]
    assert steps == list(range(1, 9)) == [row["step"] for row in resumed.history]
    assert len((run_dir / "history.csv").read_text().splitlines()) == 1 + 8
    assert gh.read_history(run_dir) == resumed.history == gh.load_run(run_dir).history


def test_a_checkpoint_from_before_appended_history_still_resumes(faces32, tmp_path):
    run_dir = tmp_path / "run"
    first = _train(faces32, run_dir, epochs=1)
    state_path = checkpoint.latest_checkpoint(run_dir / "checkpoints") / "state.json"
    state = json.loads(state_path.read_text())
    state["history"] = first.history  # the old format: the history inside every checkpoint
    del state["history_rows"]
    state_path.write_text(json.dumps(state))
    checkpoint._write_manifest(state_path.parent)  # a deliberate edit: the manifest must say so
    (run_dir / "history.jsonl").unlink()
    resumed = gh.train(run_dir=run_dir, resume=True, epochs=2, images=faces32[:64], progress=False)
    assert [row["step"] for row in resumed.history] == list(range(1, 9))


def test_open_run_opens_a_plain_run_folder_like_load_run(faces32, tmp_path):
    trained = _train(faces32, tmp_path / "run")
    opened = training.open_run(tmp_path / "run")
    assert type(opened) is training.Run and opened.step == trained.step == 4
    assert opened.data == "<array>" and opened.num_images == 64 and opened.seed == 0
    assert np.array_equal(opened.fixed_noise, trained.fixed_noise)
    assert opened.history == trained.history
    for a, b in zip(opened.generator.get_weights(), trained.generator.get_weights()):
        assert np.array_equal(a, b)
    assert training.open_run(tmp_path / "run", conditional=False).step == 4
    assert gh.load_run(tmp_path / "run").step == 4  # the public name, a thin wrapper
    with pytest.raises(ValueError, match=r"run holds an unconditional run: load it with "
                                         r"gan_helpers.load_run"):
        training.open_run(tmp_path / "run", conditional=True)
    folder = training.read_run_folder(tmp_path / "run")
    assert folder.conditions is None and folder.config == trained.config
    assert folder.latest == checkpoint.latest_checkpoint(tmp_path / "run" / "checkpoints")


def test_opening_a_run_folder_names_the_folder_and_what_is_missing(faces32, tmp_path):
    def one_line_error(error_type, run_dir, **kwargs):
        with pytest.raises(error_type) as info:
            training.open_run(run_dir, **kwargs)
        message = str(info.value)
        assert len(message.splitlines()) == 1 and str(run_dir) in message, message
        return message

    assert "run folder not found" in one_line_error(FileNotFoundError, tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    assert "no complete checkpoint" in one_line_error(FileNotFoundError, tmp_path / "empty")
    run_dir = tmp_path / "run"
    _train(faces32, run_dir)
    config_json = (run_dir / "config.json").read_text()
    (run_dir / "config.json").unlink()
    assert "has checkpoints but no config.json" in one_line_error(FileNotFoundError, run_dir)
    with pytest.raises(FileNotFoundError, match=r"cannot resume: .* no config.json"):
        gh.train(run_dir=run_dir, resume=True, progress=False)
    (run_dir / "config.json").write_text(config_json[:40])  # a copy cut short
    assert "cut short or not JSON" in one_line_error(ValueError, run_dir)
    (run_dir / "config.json").write_text(json.dumps({"config": {}}))
    assert "is not a run's: it has no 'data'" in one_line_error(ValueError, run_dir)
    (run_dir / "config.json").write_text(config_json)
    assert training.open_run(run_dir).step == 4
