"""Every GANConfig field is a train flag (one naming rule), and --resume honours or refuses it."""
import dataclasses
import json

import pytest

import gan_helpers as gh
from gan_helpers import cli
from gan_helpers.core.config import CONFIG_GROUPS, GANConfig
from gan_helpers.core.training import FIXED_ON_RESUME

# One value per field that differs from every preset's, as typed on a command line.
SAMPLE = {
    "image_size": ("32", 32), "latent_dim": ("24", 24), "batch_size": ("16", 16),
    "lr_d": ("1e-4", 1e-4), "lr_g": ("3e-4", 3e-4), "beta_1": ("0.6", 0.6),
    "real_label_range": ("0.7,0.95", (0.7, 0.95)), "fake_label_range": ("0.05", (0.05, 0.05)),
    "label_flip_prob": ("0.05", 0.05), "instance_noise_std": ("0.1", 0.1),
    "d_batch_norm": (None, True), "d_dropout": ("0.2", 0.2), "minibatch_std": ("0", 0),
    "d_augment": ("color", "color"), "d_spectral_norm": (None, True), "filters": ("8", 8),
    "r1_gamma": ("0.1", 0.1),
    "ema": ("0.99", 0.99), "precision": ("float32", "float32"), "flip_images": (None, False),
    "images_shown": ("50000", 50_000), "epochs": ("3", 3),
}


def _argv(name):
    text, value = SAMPLE[name]
    flag = cli.config_flag(name)
    if text is None:  # a switch: --x turns it on, --no-x off
        return [flag if value else "--no-" + flag[2:]]
    return [flag, text]


def test_every_config_field_has_a_flag_in_exactly_one_help_group():
    fields = [f.name for f in dataclasses.fields(GANConfig)]
    assert sorted(fields) == sorted(SAMPLE)  # a new field needs a sample value here
    grouped = [name for names in CONFIG_GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(fields)
    help_text = cli.build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    for title in CONFIG_GROUPS:
        assert title in help_text
    for name in fields:
        assert cli.config_flag(name) in help_text, name


@pytest.mark.parametrize("name", sorted(SAMPLE))
def test_each_flag_reaches_the_config(name):
    args = cli.build_parser().parse_args(["train", *_argv(name)])
    overrides = cli.config_overrides(args)
    assert overrides == {name: SAMPLE[name][1]}
    assert cli.config_overrides(cli.build_parser().parse_args(["train"])) == {}


@pytest.mark.parametrize("argv, needle", [
    (["--real-label-range", "a,b"], "expected LO,HI"),
    (["--minibatch-std", "-1"], "0 or a positive integer"),
    (["--lr-d", "fast"], "invalid float value"),
])
def test_bad_flag_values_are_one_line_errors(argv, needle, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(err) == 1 and needle in err[0]


TINY = ["--data", "cartoon-faces", "--num-images", "32", "--image-size", "32",
        "--batch-size", "16", "--filters", "8", "--latent-dim", "16", "--no-progress"]


def test_resume_changes_what_may_change_and_refuses_the_rest(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert cli.main(["train", *TINY, "--epochs", "1", "--run-dir", str(run_dir),
                     "--lr-d", "1e-4", "--ema", "0.9", "--seed", "3"]) == 0
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["config"]["lr_d"] == 1e-4 and saved["config"]["ema"] == 0.9 and saved["seed"] == 3
    capsys.readouterr()

    # Learning rates, labels and EMA may change: the run says so and records it.
    assert cli.main(["train", "--resume", "--run-dir", str(run_dir), "--epochs", "2",
                     "--lr-d", "5e-5", "--fake-label-range", "0,0.1", "--ema", "0",
                     "--label-flip-prob", "0.05", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "with lr_d=5e-05 (was 0.0001)" in out and "ema=0.0 (was 0.9)" in out
    assert "fake_label_range=(0.0, 0.1)" in out and "label_flip_prob=0.05 (was 0.0)" in out
    saved = json.loads((run_dir / "config.json").read_text())["config"]
    assert saved["lr_d"] == 5e-5 and saved["fake_label_range"] == [0.0, 0.1] and saved["epochs"] == 2
    assert saved["label_flip_prob"] == 0.05
    # ... and the optimisers really use the new rate (the checkpoint's rate is not loaded
    # over it), while the moments and the step count come back from the checkpoint.
    run = gh.load_run(run_dir)
    assert float(run.discriminator.optimizer.learning_rate) == pytest.approx(5e-5)
    assert float(run.gan.optimizer.learning_rate) == pytest.approx(saved["lr_g"])
    assert int(run.discriminator.optimizer.iterations) == run.step

    # Shapes, the batch size, the data, the seed and the preset are the run's: refused.
    refused = {("--filters", "16"): "trained with filters=8",
               ("--batch-size", "32"): "trained with batch_size=16",
               ("--data", "noto-emoji"): "cannot resume with --data noto-emoji",
               ("--seed", "4"): "cannot resume with --seed 4",
               ("--num-images", "64"): "cannot resume with --num-images 64",
               ("--preset", "dcgan"): "cannot resume with --preset",
               ("--images-shown", "5000"): "this run counts its length in epochs"}
    for argv, needle in refused.items():
        code = cli.main(["train", "--resume", "--run-dir", str(run_dir), *argv, "--no-progress"])
        err = capsys.readouterr().err
        assert code == 2 and needle in err, (argv, err)
        assert len(err.strip().splitlines()) == 1
    assert set(FIXED_ON_RESUME) == set(next(iter(CONFIG_GROUPS.values())))


def test_train_leaves_the_callers_config_alone(faces32, tmp_path):
    config = GANConfig(image_size=32, batch_size=16, filters=8, latent_dim=16, epochs=3,
                       precision="auto")
    before = config.to_dict()
    gh.train(images=faces32[:32], config=config, epochs=1, run_dir=tmp_path / "run",
             progress=False)
    assert config.to_dict() == before


def test_the_cli_page_lists_every_train_switch():
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    train = cli.build_parser()._subparsers._group_actions[0].choices["train"]
    for action in train._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and not flag.startswith("--no-") and flag != "--help":
                assert f"`{flag}`" in page, flag
