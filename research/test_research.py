"""Smoke tests of the research scripts (research/) that run with TensorFlow on a CPU.

Not collected by the default ``pytest`` (pyproject's testpaths are tests/ and notebooks/);
CI runs them in a stage of their own:

    GAN_QUICK=1 python -m pytest -q -p no:nbval -o addopts="" research
"""
import importlib.util
import re
from pathlib import Path

import pytest

RESEARCH = Path(__file__).resolve().parent


def _load(name):
    spec = importlib.util.spec_from_file_location(name, RESEARCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_profile_step_names_the_layer_of_each_op():
    tool = _load("profile_step")
    names = {"generator": {"up_16", "bn_16"}, "discriminator": {"conv_4", "augment"}}
    assert tool._layer_of("gradient_tape/discriminator_1/conv_4_1/convolution/Conv2DBackpropFilter",
                          names) == "discriminator/conv_4"
    assert tool._layer_of("generator_3/up_16_1/conv_transpose", names) == "generator/up_16"
    assert tool._layer_of("discriminator/augment/GatherV2", names) == "discriminator/augment"
    assert tool._layer_of("adam_1/Mul", names) == "optimisers (Adam updates)"
    assert tool._layer_of("concat_1", names) == "other"
    assert tool._call_of("gradient_tape/generator_3/up_16_1/conv_transpose",
                         names) == "generator_3 (backward)"
    assert tool._call_of("discriminator_1/conv_4_1/BiasAdd", names) == "discriminator_1 (forward)"
    assert tool._call_of("adam/Mul", names) == "other"


def test_profile_step_prints_shares_of_the_default_step(capsys):
    pytest.importorskip("tensorflow.python.profiler.internal._pywrap_profiler_plugin")
    assert _load("profile_step").main(["--steps", "1", "--top", "40"]) == 0
    out = capsys.readouterr().out
    assert "share of op time" in out and "discriminator/conv_4" in out
    shares = [float(line.split()[-1].rstrip("%")) for line in out.splitlines()
              if line.strip().startswith(("discriminator/", "generator/"))]
    assert 50 < sum(shares) <= 100.5  # the two models' layers take most of the op time


def test_blur_check_scores_blurred_real_faces_with_a_given_classifier(tmp_path, capsys):
    tool = _load("blur_check")
    # The session's quick classifier (trained once per session, in research/conftest.py's cache).
    assert tool.main(["--count", "64", "--radii", "0,1"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()  # (training output, if it was trained here,) then:
    assert "64 per set" in lines[-5] and lines[-4].split()[:2] == ["blur", "px"]
    assert [float(line.split()[0]) for line in lines[-3:-1]] == [0.0, 1.0]
    blend, sharp = lines[-1].split(), lines[-3].split()
    assert blend[0] == "blend" and float(blend[-1].rstrip("%")) < float(sharp[-1].rstrip("%"))
    from gan_helpers.evaluation.attributes import build_attribute_classifier

    weights = tmp_path / "other.weights.h5"
    build_attribute_classifier().save_weights(weights)
    assert tool.main(["--weights", str(weights), "--count", "32", "--radii", "0"]) == 0
    assert str(weights) in capsys.readouterr().out
    with pytest.raises(SystemExit):
        tool.main(["--weights", str(tmp_path / "missing.weights.h5")])
    assert "--weights: no such file" in capsys.readouterr().err


def test_sampler_knobs_scores_a_run_as_evaluate_does_and_changes_no_weight(tmp_path, capsys):
    import numpy as np

    import gan_helpers as gh
    from gan_helpers.evaluation.evaluate import evaluate_generator

    run_dir = tmp_path / "run"
    gh.train(data="cartoon-faces", num_images=64, image_size=32, batch_size=16, filters=8,
             latent_dim=16, epochs=1, run_dir=run_dir, progress=False)
    run = gh.load_run(run_dir)
    tool = _load("sampler_knobs")
    assert tool.main(["--run-dir", str(run_dir), "--count", "32", "--z-scales", "1,2"]) == 0
    # (the quick classifier's training output, if it was trained here,) then the table:
    lines = capsys.readouterr().out.strip().splitlines()[-5:]
    assert lines[0].endswith("step 4") and lines[1].split()[:2] == ["sampler", "SWD"]
    z1 = lines[2].split()
    assert z1[:3] == ["z", "x", "1"]
    # z x 1 is evaluate's own protocol: the same SWD and coverage as evaluate_generator.
    direct = evaluate_generator(run.sampler, 16, "cartoon-faces", 32, count=32, attributes=True)
    assert float(z1[3]) == pytest.approx(direct["swd"]["swd_mean"], abs=0.06)
    assert float(z1[4]) == pytest.approx(direct["attributes"]["coverage"]["mean"] * 100, abs=0.06)
    assert lines[3].split()[:3] == ["z", "x", "2"] and lines[4].startswith("batch stats")
    # The batch-statistics sampler differs from inference mode and leaves the moving
    # averages as they were (a Keras 3 call in training mode moves them).
    before = [w.numpy() for w in run.sampler.weights]
    noise = np.random.default_rng(0).standard_normal((32, 16)).astype(np.float32)
    batch = tool._Sampler(run.sampler, batch_stats=True).predict(noise)
    assert np.abs(batch - tool._Sampler(run.sampler).predict(noise)).mean() > 1e-3
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(before, run.sampler.weights))


def test_step_cost_parses_variants_and_times_each(capsys):
    tool = _load("step_cost")
    assert tool.parse_variant("default") == {}
    assert tool.parse_variant("r1_gamma=0.3, minibatch_std=0, d_batch_norm=true") == dict(
        r1_gamma=0.3, minibatch_std=0, d_batch_norm=True)
    with pytest.raises(ValueError, match="unknown GANConfig field 'r1'"):
        tool.parse_variant("r1=1")
    assert tool.main(["--variants", "default;r1_gamma=0.3", "--rounds", "1", "--block", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "median of 1 blocks of 4 iterations" in lines[0]
    rows = {line.split()[0]: float(line.split()[1]) for line in lines[1:]}
    assert set(rows) == {"default", "r1_gamma=0.3"} and all(v > 0 for v in rows.values())
    gflop = {line.split()[0]: float(line.split()[6]) for line in lines[1:]}
    assert lines[1].split()[7:] == ["GFLOP/iteration", "(1.000x)"]
    assert gflop["default"] == pytest.approx(20.6, abs=0.1) and gflop["r1_gamma=0.3"] == gflop["default"]


def test_certainty_grid_ranks_samples_by_the_parts_asked_for(tmp_path, capsys):
    import numpy as np

    import gan_helpers as gh

    tool = _load("certainty_grid")
    sure = np.array([[0.9, 0.1], [0.5, 0.5], [0.6, 0.4], [0.99, 0.01]])
    rows = tool.ranked_rows({"eyes": sure, "skin": sure[::-1]}, ["eyes"], per_row=2)
    assert list(rows["surest"]) == [3, 0] and list(rows["least sure"]) == [2, 1]
    assert rows["certainty"] == pytest.approx([0.9, 0.5, 0.6, 0.99])

    run_dir = tmp_path / "run"
    gh.train(data="cartoon-faces", num_images=64, image_size=32, batch_size=16, filters=8,
             latent_dim=16, epochs=1, run_dir=run_dir, progress=False)
    out = tmp_path / "grid.png"
    assert tool.main(["--run-dir", str(run_dir), "--out", str(out), "--count", "32",
                      "--per-row", "4"]) == 0
    assert out.stat().st_size > 0 and "mean certainty of all 32 samples" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        tool.main(["--run-dir", str(run_dir), "--out", str(out), "--attributes", "nose"])
    assert "--attributes: unknown nose" in capsys.readouterr().err


def test_part_certainty_tells_between_two_parts_from_like_none(tmp_path, capsys):
    import numpy as np

    import gan_helpers as gh
    from gan_helpers.evaluation.attributes import top_mass

    between = np.array([[0.5, 0.5, 0.0, 0.0], [0.6, 0.4, 0.0, 0.0]])
    spread = np.full((2, 4), 0.25)
    assert top_mass({"eyes": between}, 1) == {"eyes": 0.55}
    assert top_mass({"eyes": between}, 2) == {"eyes": 1.0}
    assert top_mass({"eyes": spread}, 2) == {"eyes": 0.5}
    assert top_mass({"eyes": spread}, 3) == {"eyes": 0.75}
    with pytest.raises(ValueError, match="k must be a positive integer"):
        top_mass({"eyes": spread}, 0)

    tool = _load("part_certainty")
    run_dir = tmp_path / "run"
    gh.train(data="cartoon-faces", num_images=64, image_size=32, batch_size=16, filters=8,
             latent_dim=16, epochs=1, run_dir=run_dir, progress=False)
    assert tool.main([str(run_dir), "--count", "16"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = "mean probability of the top 1 / 2 / 3 values, 16 images per set"
    lines = lines[lines.index(header):]  # after the classifier's one-time training message
    assert lines[2].startswith("real ") and lines[3].startswith("real, blended two by two")
    assert lines[4].startswith(f"{run_dir} (step 4)") and len(lines) == 5
    for line in lines[2:]:
        # One "a% / b% / c%" cell per attribute, parsed by value rather than by column
        # width (a value that fills its column, such as 100%, leaves no padding).
        cells = re.findall(r"(\d+)% / (\d+)% / (\d+)%", line)
        assert len(cells) == len(tool.ATTRIBUTES), line
        for cell in cells:  # top 1 <= top 2 <= top 3
            tops = [int(v) for v in cell]
            assert tops == sorted(tops), line
    with pytest.raises(SystemExit):
        tool.main(["--count", "1"])
    assert "--count must be at least 2" in capsys.readouterr().err


def test_own_folders_renders_svgs_on_white_and_draws_real_above_samples(tmp_path):
    from PIL import Image

    import gan_helpers as gh

    svgs = tmp_path / "svg"
    svgs.mkdir()
    for i, colour in enumerate(("#d22", "#2a2", "#22d", "#dd2")):
        (svgs / f"{i}.svg").write_text(
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 72 72">'
            f'<circle cx="36" cy="36" r="20" fill="{colour}"/></svg>')
    tool = _load("own_folders")
    assert tool.main(["render", str(svgs), str(tmp_path / "png")]) == 0
    with Image.open(tmp_path / "png" / "0.png") as image:
        assert image.size == (128, 128) and image.mode == "RGB"
        assert image.getpixel((2, 2)) == (255, 255, 255)  # transparent became white
        assert image.getpixel((64, 64))[0] > 150  # the red circle
    run_dir = tmp_path / "run"
    gh.train(data=str(tmp_path / "png"), image_size=32, batch_size=4, filters=8, latent_dim=16,
             epochs=1, run_dir=run_dir, progress=False)
    out = tmp_path / "figure.png"
    assert tool.main(["figure", f"circles={run_dir}", "--out", str(out), "--count", "3"]) == 0
    with Image.open(out) as image:
        assert image.size[0] > 100 and image.size[1] > 100
