"""Mixed precision as a training option: the policy stays local, outputs stay float32."""
import json
import warnings

import numpy as np
import pytest

import gan_helpers as gh
from gan_helpers.core import hardware, training
from gan_helpers.core.fused import FusedStep

TINY = dict(image_size=32, batch_size=16, filters=8, latent_dim=16)


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_models_compute_low_precision_but_output_float32_and_keep_float32_weights(precision):
    before = gh.keras.mixed_precision.global_policy().name
    config = gh.make_config(**TINY, precision=precision)
    generator, discriminator, gan = training.build_models(config)
    assert gh.keras.mixed_precision.global_policy().name == before  # nothing leaks
    compute = precision.split("_")[1]
    assert generator.layers[0].compute_dtype == compute
    assert all(w.dtype == "float32" for w in generator.weights + discriminator.weights)
    z = np.zeros((4, 16), np.float32)
    assert generator(z).dtype == "float32"
    assert discriminator(generator(z)).dtype == "float32"
    # loss scaling only where float16's range needs it
    scaled = type(gan.optimizer).__name__ == "LossScaleOptimizer"
    assert scaled == (precision == "mixed_float16")


def test_a_bfloat16_step_trains_and_stays_close_to_float32(faces32):
    batch = gh.scale_images(faces32[:16])
    results = {}
    for precision in ("float32", "mixed_bfloat16"):
        config = gh.make_config(**TINY, precision=precision)
        models = training.build_models(config, seed=3)
        step = FusedStep(*models, config)
        logs = step(batch, rng=np.random.default_rng(0))
        results[precision] = (logs, models[0].weights[0].numpy())
    (logs32, w32), (logs16, w16) = results["float32"], results["mixed_bfloat16"]
    assert all(np.isfinite(v) for v in logs16.values())
    assert not np.array_equal(w16, w32)  # the computation really changed
    assert abs(logs16["d_loss"] - logs32["d_loss"]) < 0.05  # bf16 keeps ~3 significant digits
    assert np.max(np.abs(w16 - w32)) < 1e-3  # one Adam step moves weights by <= lr


def test_auto_precision_is_resolved_and_recorded_in_the_run(faces32, tmp_path):
    run = gh.train(images=faces32[:32], run_dir=tmp_path / "run", epochs=1, progress=False,
                   precision="auto", **TINY)
    saved = json.loads((run.run_dir / "config.json").read_text())["config"]["precision"]
    assert saved == hardware.best_precision() != "auto"


def test_a_run_can_change_precision_when_it_resumes(faces32, tmp_path, capsys):
    # A run started on a GPU (mixed_float16: a loss-scale optimiser wraps Adam) must resume
    # on a CPU in float32, and back: the weights and Adam's state are float32 under every
    # policy; the loss scale itself is not kept (it adapts again).
    run_dir = tmp_path / "run"
    first = gh.train(images=faces32[:32], run_dir=run_dir, epochs=1, progress=False,
                     precision="mixed_float16", **TINY)
    g_weights = [w.numpy() for w in first.generator.weights]
    d_moments = [v.numpy() for v in first.discriminator.optimizer.inner_optimizer.variables]
    for epoch, precision in ((2, "float32"), (3, "mixed_float16")):
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # no "skipping optimizer variables"
            run = gh.train(run_dir=run_dir, resume=True, epochs=epoch, images=faces32[:32],
                           progress=False, precision=precision)
        assert run.epoch == epoch and run.config.precision == precision
        assert all(np.isfinite(row["g_loss"]) for row in run.history)
    assert "with precision=float32 (was mixed_float16)" in capsys.readouterr().out
    # The float32 run started from exactly the saved weights and optimiser state.
    resumed = gh.load_run(run_dir)  # the last checkpoint, after epoch 3
    assert resumed.step == 6 and resumed.config.precision == "mixed_float16"
    assert len(d_moments) == len(resumed.discriminator.optimizer.inner_optimizer.variables)
    assert not all(np.array_equal(a, w.numpy()) for a, w in zip(g_weights, resumed.generator.weights))


# Stand-ins for describe_hardware() on the machines people train on.
T4 = {"kind": "GPU", "name": "Tesla T4", "count": 1, "compute_capability": (7, 5), "bf16": False,
      "cpu_bf16": False}  # Colab's free GPU
A100 = {**T4, "name": "NVIDIA A100-SXM4-40GB", "compute_capability": (8, 0), "bf16": True}
H100 = {**T4, "name": "NVIDIA H100 80GB HBM3", "compute_capability": (9, 0), "bf16": True}
P100 = {**T4, "name": "Tesla P100-PCIE-16GB", "compute_capability": (6, 0)}
CPU_BF16 = {"kind": "CPU", "name": "AMD EPYC", "count": 1, "cpu_bf16": True, "bf16": True}
CPU_AVX2 = {**CPU_BF16, "cpu_bf16": False, "bf16": False}
TPU = {"kind": "TPU", "name": "8 TPU cores", "count": 8, "cpu_bf16": False, "bf16": True}


def test_best_precision_follows_the_hardware():
    assert hardware.best_precision(CPU_BF16) == "mixed_bfloat16"
    assert hardware.best_precision(CPU_AVX2) == "float32"
    assert hardware.best_precision(TPU) == "mixed_bfloat16"


def test_best_precision_on_gpus_is_float16_from_tensor_cores_on():
    # decided from the dict alone: no GPU needed to ask about one
    assert hardware.best_precision(T4) == "mixed_float16"  # no bfloat16 on a T4
    assert hardware.best_precision(A100) == hardware.best_precision(H100) == "mixed_float16"
    assert hardware.best_precision(P100) == "float32"  # no tensor cores
    assert hardware.best_precision({**T4, "compute_capability": None}) == "float32"


def _timed(info):
    """bench's plan for ``info``: key -> (policy, available, why)."""
    from gan_helpers.core.bench import precisions_to_time

    return {row[0]: tuple(row[1:]) for row in precisions_to_time(info)}


def test_bench_skips_bfloat16_on_a_t4_and_says_why():
    timed = _timed(T4)
    assert timed["fused_bf16"] == (
        "mixed_bfloat16", False, "no bfloat16 on this GPU (compute capability 7.5; needs 8.0)")
    assert timed["fused_fp16"] == ("mixed_float16", True, "")
    unknown = _timed({**T4, "compute_capability": None})["fused_bf16"]
    assert unknown[2] == "no bfloat16 on this GPU (compute capability unknown; needs 8.0)"


@pytest.mark.parametrize("gpu", [A100, H100], ids=["A100", "H100"])
def test_bench_times_bfloat16_and_float16_on_ampere_and_newer(gpu):
    timed = _timed(gpu)
    assert timed["fused_bf16"] == ("mixed_bfloat16", True, "")
    assert timed["fused_fp16"] == ("mixed_float16", True, "")


def test_bench_times_bfloat16_on_cpus_with_its_instructions_and_on_tpus():
    assert _timed(CPU_BF16)["fused_bf16"][1] and _timed(TPU)["fused_bf16"][1]
    assert _timed(CPU_AVX2)["fused_bf16"] == (
        "mixed_bfloat16", False, "no bfloat16 instructions on this CPU")
    for info in (CPU_BF16, CPU_AVX2, TPU):
        assert _timed(info)["fused_fp16"] == (
            "mixed_float16", False, "float16 is only fast on a GPU")


def test_unknown_precision_is_a_clear_error():
    with pytest.raises(ValueError, match="precision must be one of"):
        gh.make_config(precision="float8")
