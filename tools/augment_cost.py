"""What each DiffAugment policy costs per iteration of the default recipe, on this machine.

Times the fused step of the default preset with each policy, in alternating blocks so that
a noisy machine slows them alike, and prints the median seconds per iteration and the ratio
to the default's policy, all measured in this one run:

    python tools/augment_cost.py [--policies color,translation:translation:] [--rounds 6]

Policies are separated by ``:``; an empty one means no augmentation.
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policies", default="color,translation:translation:")
    parser.add_argument("--rounds", type=int, default=6, help="blocks per policy")
    parser.add_argument("--block", type=int, default=10, help="timed iterations per block")
    args = parser.parse_args(argv)

    from gan_helpers import make_config, scale_images
    from gan_helpers.data import load_cartoon_faces
    from gan_helpers.fused import FusedStep
    from gan_helpers.hardware import hardware_summary
    from gan_helpers.training import build_models

    batch = scale_images(load_cartoon_faces(64, 64))
    rng = np.random.default_rng(0)
    policies = args.policies.split(":")
    steps = {}
    for policy in policies:
        config = make_config(d_augment=policy)
        steps[policy] = FusedStep(*build_models(config, seed=0), config)
        for _ in range(3):  # trace and warm up
            steps[policy](batch, rng=rng)
    times: dict[str, list[float]] = {policy: [] for policy in policies}
    for _ in range(args.rounds):
        for policy in policies:
            for _ in range(args.block):
                start = time.perf_counter()
                steps[policy](batch, rng=rng)
                times[policy].append(time.perf_counter() - start)
    print(f"{hardware_summary()}; default preset, fused step, batch 64, median of "
          f"{args.rounds} x {args.block} iterations each, policies interleaved")
    base = float(np.median(times[policies[0]]))
    for policy in policies:
        seconds = float(np.median(times[policy]))
        print(f"  d_augment={policy or '(none)':20s} {seconds:.3f} s/iteration  "
              f"{seconds / base:.3f}x of {policies[0] or '(none)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
