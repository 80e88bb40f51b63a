"""``python -m gan_helpers bench``: how fast training runs here, measured in one run.

Every number is measured in the same process, one variant after the other, so the
ratios compare like with like on a noisy machine. Speeds are in real images per second
(one iteration trains D on ``batch`` real + ``batch`` fake images and G on ``batch``).
"""
from __future__ import annotations

import dataclasses
import json
import time

import numpy as np

from .._tf import tf
from .config import DEFAULT_PRESET, make_config, quick_value
from .batches import iterate_batches, scale_images
from .data import load_cartoon_faces
from .fused import FusedStep
from .gan import train_step
from .hardware import GPU_BF16_CAPABILITY, describe_hardware, hardware_summary
# FLOPs are counted beside the models; gan_helpers.core.bench.forward_flops still imports
from .models import forward_flops, iteration_flops  # noqa: F401


def matmul_peak_gflops(size: int = 2048, repeats: int = 10) -> float:
    """Measured fp32 matrix-product speed of this machine (the best of a few tries)."""
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    product = tf.function(lambda x, y: tf.reduce_sum(tf.matmul(x, y)))
    product(a, b).numpy()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            product(a, b).numpy()
        best = min(best, (time.perf_counter() - start) / repeats)
    return 2 * size ** 3 / best / 1e9


def _capability(version) -> str:
    """A compute capability as NVIDIA writes it: ``(7, 5)`` is ``"7.5"``."""
    return ".".join(str(part) for part in version) if version else "unknown"


def precisions_to_time(info: dict) -> list[tuple[str, str, bool, str]]:
    """The low precisions timed after float32, each as ``(key, policy, available, why)``.

    ``info`` is :func:`gan_helpers.core.hardware.describe_hardware`'s: ``mixed_bfloat16``
    runs where the device that trains has native bfloat16 (its ``bf16``: not on a T4),
    ``mixed_float16`` on a GPU. ``why`` says why one is skipped (empty when it runs).
    """
    gpu = info["kind"] == "GPU"
    if info["bf16"]:
        why_not_bf16 = ""
    elif gpu:
        why_not_bf16 = (f"no bfloat16 on this GPU (compute capability "
                        f"{_capability(info.get('compute_capability'))}; "
                        f"needs {_capability(GPU_BF16_CAPABILITY)})")
    else:
        why_not_bf16 = "no bfloat16 instructions on this CPU"
    return [("fused_bf16", "mixed_bfloat16", bool(info["bf16"]), why_not_bf16),
            ("fused_fp16", "mixed_float16", gpu, "" if gpu else "float16 is only fast on a GPU")]


def _time_steps(step, batch, steps: int, warmup: int = 2) -> float:
    """Median seconds of one call of ``step(batch)`` after ``warmup`` calls."""
    for _ in range(warmup):
        step(batch)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step(batch)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run_benchmark(image_size: int = 64, batch_size: int | None = None, steps: int | None = None,
                  as_json: bool = False, preset: str = DEFAULT_PRESET) -> dict:
    """Measure the peak, the classic loop, the fused step in each precision and a real epoch.

    The models are ``preset``'s (default: the default preset's), at ``image_size``, with
    ``batch_size`` images per step (default: the preset's). The fused step runs in float32,
    then in bfloat16 and float16 where the device has them (:func:`precisions_to_time`).
    """
    from .training import build_models

    steps = steps or quick_value(30, 3)
    config = make_config(preset, image_size=image_size, batch_size=batch_size)
    batch_size = config.batch_size
    faces = load_cartoon_faces(quick_value(2048, 320), image_size)
    batch = scale_images(faces[:batch_size])
    rng = np.random.default_rng(0)
    hardware = describe_hardware()
    results: dict = {"hardware": hardware_summary(hardware), "preset": preset,
                     "filters": config.filters, "image_size": image_size,
                     "batch_size": batch_size, "timed_steps": steps}

    print(f"bench on {results['hardware']}: {preset} preset (filters {config.filters}), "
          f"{image_size} px, batch {batch_size}, median of {steps} timed steps each")
    results["peak_gflops"] = round(matmul_peak_gflops(), 1)
    print(f"  fp32 matrix-product peak       {results['peak_gflops']:8.1f} GFLOP/s")

    generator, discriminator, gan = build_models(config, seed=0)
    flops = iteration_flops(generator, discriminator, batch_size)
    results["gflop_per_iteration"] = round(flops / 1e9, 1)

    def report(key, seconds, label):
        img_s = batch_size / seconds
        gflops = flops / seconds / 1e9
        results[f"{key}_img_s"] = round(img_s, 1)
        results[f"{key}_gflops"] = round(gflops, 1)
        print(f"  {label:30s} {img_s:8.1f} img/s  {gflops:7.1f} GFLOP/s "
              f"({gflops / results['peak_gflops']:.0%} of peak)")
        return seconds

    classic = report("classic", _time_steps(
        lambda b: train_step(generator, discriminator, gan, b, rng=rng, config=config),
        batch, steps), "classic train_on_batch loop")
    fused_step = FusedStep(generator, discriminator, gan, config)
    fused = report("fused", _time_steps(lambda b: fused_step(b, rng=rng), batch, steps),
                   "fused step, float32")
    results["fused_fraction_of_peak"] = round(results["fused_gflops"] / results["peak_gflops"], 3)

    for key, policy, available, why in precisions_to_time(hardware):
        results[f"{key}_img_s"] = None
        if not available:
            print(f"  fused step, {policy:18s} skipped: {why}")
            continue
        low = build_models(dataclasses.replace(config, precision=policy), seed=0)
        low_step = FusedStep(*low, config)
        report(key, _time_steps(lambda b, s=low_step: s(b, rng=rng), batch, steps),
               f"fused step, {policy}")

    # A whole epoch over real data (batches assembled from the decoded uint8 array) against
    # as many fused steps on one ready batch, timed back to back: the difference is what
    # the input pipeline and the loop cost.
    count = len(faces) // batch_size
    start = time.perf_counter()
    for _ in range(count):
        fused_step(batch, rng=rng)
    steps_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for real in iterate_batches(faces, batch_size, shuffle=True, flip=True, seed=0, epoch=0):
        fused_step(real, rng=rng)
    epoch_seconds = time.perf_counter() - start
    results["epoch_seconds"] = round(epoch_seconds, 2)
    results["epoch_overhead"] = round(epoch_seconds / steps_seconds - 1, 3)
    print(f"  epoch of {count * batch_size} images           {epoch_seconds:8.1f} s "
          f"({results['epoch_overhead']:+.1%} over {count} fused steps on a ready batch, "
          f"{steps_seconds:.1f} s)")

    results["fused_vs_classic"] = round(classic / fused, 3)
    if results["fused_bf16_img_s"]:
        results["fused_bf16_vs_classic"] = round(results["fused_bf16_img_s"] / results["classic_img_s"], 3)
    best_key = max(("fused", "fused_bf16", "fused_fp16"), key=lambda k: results[f"{k}_img_s"] or 0)
    results["best_step"] = best_key
    results["best_vs_classic"] = round(results[f"{best_key}_img_s"] / results["classic_img_s"], 3)
    print(f"  ratios: fused / classic {results['fused_vs_classic']:.2f}x (target 1.1), "
          f"best ({best_key}) / classic {results['best_vs_classic']:.2f}x (target 1.6), "
          f"fused / peak {results['fused_fraction_of_peak']:.0%} (target 75%), "
          f"epoch overhead {results['epoch_overhead']:+.1%} (target 5%)")
    if as_json:
        print(json.dumps(results))
    return results
