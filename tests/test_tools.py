"""The measurement scripts under tools/ that run with TensorFlow on a CPU."""
import importlib.util
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parent.parent / "tools"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
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
    # The session's quick classifier (trained once per test session, see test_attributes).
    assert tool.main(["--count", "64", "--radii", "0,1"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()  # (training output, if it was trained here,) then:
    assert "64 per set" in lines[-4] and lines[-3].split()[:2] == ["blur", "px"]
    assert [float(line.split()[0]) for line in lines[-2:]] == [0.0, 1.0]
    from gan_helpers.attributes import build_attribute_classifier

    weights = tmp_path / "other.weights.h5"
    build_attribute_classifier().save_weights(weights)
    assert tool.main(["--weights", str(weights), "--count", "32", "--radii", "0"]) == 0
    assert str(weights) in capsys.readouterr().out
    with pytest.raises(SystemExit):
        tool.main(["--weights", str(tmp_path / "missing.weights.h5")])
    assert "--weights: no such file" in capsys.readouterr().err
