"""The command line: one-line errors with exit status 2, and the real entry point."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import gan_helpers as gh
from gan_helpers import cli


def _run_main(argv, capsys):
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.err.strip().splitlines()


def _exit_of(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("argv,needle", [
    (["train", "--data", "no-such-dataset"], "neither a built-in dataset"),
    (["train", "--resume"], "--resume needs --run-dir"),
    (["train", "--resume", "--run-dir", "/nonexistent/run"], "run folder not found"),
    (["sample", "--run-dir", "/nonexistent/run", "--out", "x.png"], "run folder not found"),
    (["prepare-data", "--data", "/nonexistent/folder"], "neither a built-in dataset"),
])
def test_user_errors_are_one_line_with_status_2(argv, needle, capsys):
    code, lines = _run_main(argv, capsys)
    assert code == 2
    assert len(lines) == 1 and needle in lines[0]


@pytest.mark.parametrize("argv,needle", [
    (["train", "--image-size", "48"], "invalid choice: 48"),
    (["train", "--epochs", "-3"], "expected a positive integer, got '-3'"),
    (["train", "--preset", "nope"], "invalid choice: 'nope'"),
    (["sample", "--count", "5"], "required"),
    (["fly"], "invalid choice"),
])
def test_bad_arguments_are_one_line_with_status_2(argv, needle, capsys):
    code, lines = _exit_of(argv, capsys)
    assert code == 2
    assert len(lines) == 1 and needle in lines[0]


def test_train_sample_and_prepare_through_python_m(tmp_path):
    """The real entry point in a subprocess, in quick mode on a small folder of faces."""
    import gan_helpers

    folder = tmp_path / "faces"
    folder.mkdir()
    for i, face in enumerate(gan_helpers.load_cartoon_faces(40, 32)):
        Image.fromarray(face).save(folder / f"{i}.png")
    env = {**os.environ, "GAN_QUICK": "1", "GAN_CACHE_DIR": str(tmp_path / "cache")}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "gan_helpers", *args], env=env,
                              capture_output=True, text=True, timeout=600)

    done = run("prepare-data", "--data", str(folder), "--image-size", "32",
               "--preview", str(tmp_path / "preview.png"))
    assert done.returncode == 0, done.stderr
    assert "40 images of 32 px" in done.stdout and (tmp_path / "preview.png").exists()
    assert f"{folder}: 40 image files; scaled from 32x32 px" in done.stdout  # as train says

    run_dir = tmp_path / "run"
    done = run("train", "--data", str(folder), "--image-size", "32", "--batch-size", "8",
               "--epochs", "1", "--run-dir", str(run_dir), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no TensorFlow start-up lines
    assert (run_dir / "progress" / "epoch_0001.png").exists()
    # your own images: the run ends with the two verdicts evaluate computes
    assert "memorisation: " in done.stdout and "near-duplicates: " in done.stdout

    # No length given: the default's images shown, quick mode's two epochs of them, with
    # the folder repeated to an epoch as long as the built-in data's (256 in quick mode).
    done = run("train", "--data", str(folder), "--image-size", "32", "--batch-size", "8",
               "--filters", "8", "--run-dir", str(tmp_path / "no-flags"))
    assert done.returncode == 0, done.stderr
    assert f"{folder}: 40 image files; scaled from 32x32 px" in done.stdout
    assert "on 40 images" in done.stdout and "each shown 7 times per epoch" in done.stdout
    assert "epochs 1-2 (560 images shown)" in done.stdout
    assert "warning:" not in done.stdout  # 40 images is not few for quick mode's 256

    done = run("train", "--data", str(folder), "--epochs", "2", "--images-shown", "900",
               "--run-dir", str(tmp_path / "both"))
    assert done.returncode == 2 and "epochs or as images_shown, not both" in done.stderr
    assert not (tmp_path / "both").exists()

    done = run("train", "--resume", "--run-dir", str(run_dir), "--epochs", "2", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert len((run_dir / "history.csv").read_text().splitlines()) == 1 + 2 * 5

    done = run("sample", "--run-dir", str(run_dir), "--count", "9", "--out",
               str(tmp_path / "grid.png"), "--seed", "1")
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "grid.png") as grid:
        assert grid.size == (3 * 34 + 2, 3 * 34 + 2)
        assert np.asarray(grid).std() > 5  # not a blank image

    done = run("train", "--resume", "--run-dir", str(run_dir), "--image-size", "64")
    assert done.returncode == 2 and "trained with image_size=32" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_bench_prints_speeds_ratios_and_one_json_line(capsys):
    from gan_helpers.core.bench import forward_flops, iteration_flops
    from gan_helpers.core.training import build_models

    code = cli.main(["bench", "--image-size", "32", "--steps", "1", "--json"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert result["batch_size"] == gh.make_config().batch_size  # the preset's, unless given
    for key in ("peak_gflops", "classic_img_s", "fused_img_s", "fused_bf16_img_s",
                "fused_fraction_of_peak", "epoch_overhead"):
        assert key in result
    assert result["peak_gflops"] > 0 and result["fused_img_s"] > 0
    assert any("ratios: fused / classic" in line for line in lines)
    # the CPU's vector extensions, so a reader can tell which published row is theirs
    # (after the faces' rendering bar, when the cache was empty)
    header = next(line for line in lines if line.startswith("bench on "))
    if gh.describe_hardware()["kind"] == "CPU":
        assert gh.describe_hardware()["cpu_vector"] in header
    # FLOPs are counted from the layers: the full-width 64 px DCGAN pair is ~160 GFLOP per
    # iteration, the default's half-width pair a quarter of that.
    generator, discriminator, _ = build_models(gh.make_config("dcgan"), seed=0)
    assert forward_flops(discriminator) > 0
    assert 120e9 < iteration_flops(generator, discriminator, 64) < 200e9
    generator, discriminator, _ = build_models(gh.make_config(), seed=0)
    assert 30e9 < iteration_flops(generator, discriminator, 64) < 50e9


def test_evaluate_reports_swd_beside_its_real_floor(tmp_path, capsys):
    run_dir = tmp_path / "run"
    gh.train(data="cartoon-faces", num_images=64, image_size=32, batch_size=16, filters=8,
             latent_dim=16, epochs=1, run_dir=run_dir, progress=False)
    code = cli.main(["evaluate", "--run-dir", str(run_dir), "--count", "32", "--json",
                     "--pairs", str(tmp_path / "pairs.png")])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert set(result["swd"]) == {"swd_32", "swd_16", "swd_mean"}
    # An untrained-for-long generator is far from the data; two halves of the data are not.
    assert result["swd"]["swd_mean"] > result["swd_real_floor"]["swd_mean"]
    assert result["fid"] is None and "no InceptionV3 weights given" in result["skipped"]
    assert set(result["memorisation"]) >= {"sample_nn_median", "real_nn_median", "memorised"}
    assert (tmp_path / "pairs.png").exists()
    assert any("real vs real" in line for line in lines)
    # The attribute table's third row: real images blurred by 1 px, what softness costs.
    assert set(result["attributes_real_blurred"]) >= {"fd", "precision", "recall", "coverage"}
    assert any("real blurred 1 px" in line for line in lines)
    # Certainty per attribute, the samples' beside the real floor's.
    certainty = next(line for line in lines if "certainty per attribute" in line)
    assert set(result["attributes"]["certainty"]) == set(result["attributes"]["coverage"])
    assert all(f"{name} " in certainty for name in result["attributes"]["coverage"] if name != "mean")
    assert cli.main(["evaluate", "--run-dir", str(tmp_path / "missing")]) == 2
    # The in-memory scorer (research/gpu_sweep.py scores runs at chosen epochs with it) follows
    # the same protocol: the same generator gets the same numbers.
    from gan_helpers.evaluation.evaluate import evaluate_generator

    run = gh.load_run(run_dir)
    direct = evaluate_generator(run.sampler, 16, "cartoon-faces", 32, count=32)
    assert direct["swd"] == pytest.approx(result["swd"], rel=1e-3)
    assert direct["near_duplicates"] == result["near_duplicates"]
    # A reference built once (the real side: floors, the classifier's pass over the real
    # faces) scores a generator as a fresh call does, and refuses other settings.
    from gan_helpers.evaluation.evaluate import evaluation_reference

    reference = evaluation_reference("cartoon-faces", 32, count=32)
    reused = [evaluate_generator(run.sampler, 16, "cartoon-faces", 32, count=32, reference=reference)
              for _ in range(2)]
    for again in reused:
        assert again["swd"] == pytest.approx(direct["swd"], rel=1e-5)
        assert again["swd_real_floor"] == pytest.approx(direct["swd_real_floor"], rel=1e-5)
        for key in ("attributes", "attributes_real_floor", "attributes_real_blurred"):
            assert again[key]["fd"] == pytest.approx(direct[key]["fd"], rel=1e-4)
            assert again[key]["coverage"] == pytest.approx(direct[key]["coverage"], rel=1e-4)
    with pytest.raises(ValueError, match=r"count 16 \(reference: 32\)"):
        evaluate_generator(run.sampler, 16, "cartoon-faces", 32, count=16, reference=reference)


def test_evaluate_computes_kid_and_fid_from_a_weights_file(tmp_path, capsys):
    # Offline there are no ImageNet weights; randomly initialised ones test the plumbing.
    weights = tmp_path / "inception_notop.weights.h5"
    gh.keras.applications.InceptionV3(include_top=False, weights=None, pooling="avg",
                                      input_shape=(299, 299, 3)).save_weights(weights)
    run_dir = tmp_path / "run"
    gh.train(data="cartoon-faces", num_images=64, image_size=32, batch_size=16, filters=8,
             latent_dim=16, epochs=1, run_dir=run_dir, progress=False)
    code = cli.main(["evaluate", "--run-dir", str(run_dir), "--count", "8", "--json",
                     "--inception-weights", str(weights)])
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # Untrained Inception features are near-constant, so the values say nothing about the
    # images here; the FID/KID formulas are checked in test_metrics.py.
    assert result["fid"] >= 0 and result["fid_real_floor"] >= 0
    assert isinstance(result["kid"], float)
    assert result["skipped"] is None and "bilinear" in result["inception_protocol"]["resize"]
    assert cli.main(["evaluate", "--run-dir", str(run_dir), "--inception-weights",
                     str(tmp_path / "nope.h5")]) == 2
    assert "weights file not found" in capsys.readouterr().err
