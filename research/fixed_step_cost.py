"""What a Colab T4 estimate is built on: the fixed cost of one fused TensorFlow step.

Times the default recipe's fused step twice on this machine: as it is (64 px) and with its
arithmetic shrunk to almost nothing (32 px, 4 filters, the same batch of 32). The second
is what every step costs whatever the device: Python, tf.function dispatch, the noise and
labels. docs/speed.md adds it to the T4's arithmetic time for the notebooks' Colab
estimates. Prints medians of 40 steps after 5 warm-up steps.

    python research/fixed_step_cost.py
"""
import argparse
import statistics
import time

import numpy as np

import gan_helpers as gh
from gan_helpers.core.fused import FusedStep
from gan_helpers.core.training import build_models


def median_step_seconds(steps: int = 40, **overrides) -> float:
    """Median seconds of one fused step of the default recipe with ``overrides``."""
    config = gh.make_config(gh.DEFAULT_PRESET, **overrides)
    generator, discriminator, gan = build_models(config)
    step = FusedStep(generator, discriminator, gan, config)
    rng = np.random.default_rng(0)
    shape = (config.batch_size, config.image_size, config.image_size, 3)
    batch = np.random.default_rng(1).uniform(-1, 1, shape).astype("float32")
    for _ in range(5):
        step(batch, rng=rng)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step(batch, rng=rng)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40, help="timed steps (default 40)")
    args = parser.parse_args(argv)
    tiny = median_step_seconds(args.steps, image_size=32, filters=4)
    full = median_step_seconds(args.steps)
    print(f"{gh.hardware_summary()}: fused step, median of {args.steps}: fixed cost (32 px, "
          f"4 filters) {tiny * 1e3:.1f} ms, default recipe at 64 px {full * 1e3:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
