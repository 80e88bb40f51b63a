"""tf.distribute: the fused step on two logical CPU devices equals the single-device step.

Logical devices must be configured before TensorFlow starts, so the comparison runs in a
fresh Python process.
"""
import json
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import gan_helpers as gh
    from gan_helpers.core.fused import FusedStep
    from gan_helpers.core.training import build_models, make_strategy

    config = gh.make_config("cartoon", image_size=32, batch_size=16, filters=8, latent_dim=16,
                            d_augment="", fake_label_range=(0.0, 0.2), instance_noise_std=0.05)
    real = np.random.default_rng(5).uniform(-1, 1, (16, 32, 32, 3)).astype(np.float32)

    def run(strategy, config=config):
        models = build_models(config, seed=0, strategy=strategy)
        step = FusedStep(*models, config, strategy=strategy)
        rng = np.random.default_rng(0)
        logs = [step(real, rng=rng) for _ in range(3)]
        weights = [w.numpy() for m in models[:2] for w in m.weights]
        return logs, weights

    strategy = make_strategy(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    single_logs, single = run(None)
    dist_logs, dist = run(strategy)
    print(json.dumps({
        "replicas": strategy.num_replicas_in_sync,
        "max_weight_diff": max(float(np.max(np.abs(a - b))) for a, b in zip(single, dist)),
        "max_change": max(float(np.max(np.abs(a - b))) for a, b in zip(single, run(None)[1])),
        "log_diff": max(abs(a[k] - b[k]) for a, b in zip(single_logs, dist_logs) for k in a),
        "weights_moved": float(np.max(np.abs(single[0] - build_models(config, seed=0)[0].weights[0].numpy()))),
        # a whole run through train(), with the default DiffAugment, then resumed
        "train_steps": gh.train(images=(real * 127.5 + 127.5).astype(np.uint8), epochs=1,
                                run_dir=sys.argv[1], progress=False, distribute=strategy,
                                image_size=32, batch_size=8, filters=8, latent_dim=16).step,
        "resumed_steps": gh.train(images=(real * 127.5 + 127.5).astype(np.uint8), epochs=2,
                                  run_dir=sys.argv[1], resume=True, progress=False,
                                  distribute=strategy).step,
    }))
""")


def test_mirrored_step_on_two_cpu_devices_matches_one_device(tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    assert result["weights_moved"] > 1e-4  # three steps really trained
    assert result["max_change"] == 0.0  # the single-device run repeats itself exactly
    assert result["max_weight_diff"] < 1e-4, result
    assert result["log_diff"] < 1e-4, result
    assert result["train_steps"] == 2 and result["resumed_steps"] == 4


def test_distribute_needs_the_fused_step_and_a_known_name(faces32, tmp_path):
    import gan_helpers as gh
    from gan_helpers.core.training import make_strategy

    assert make_strategy(None) is None and make_strategy("none") is None
    with pytest.raises(ValueError, match="distribute must be"):
        make_strategy("gpus")
    with pytest.raises(ValueError, match="needs step='fused'"):
        gh.train(images=faces32[:32], run_dir=tmp_path / "r", epochs=1, progress=False,
                 image_size=32, batch_size=16, filters=8, latent_dim=16,
                 step="classic", distribute="mirrored")
