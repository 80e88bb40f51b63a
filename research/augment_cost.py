"""What each DiffAugment policy costs per iteration of the default recipe, on this machine.

Times the fused step of the default preset (its batch size) with each policy, in
alternating blocks so that a noisy machine slows them alike, and prints the median seconds
per iteration and the ratio to the first policy, all measured in this one run:

    python research/augment_cost.py [--policies color,translation:translation:] [--rounds 6]

Policies are separated by ``:``; an empty one means no augmentation. (``research/step_cost.py``
does the same for any change of the recipe.)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policies", default="color,translation:translation:")
    parser.add_argument("--rounds", type=int, default=6, help="blocks per policy")
    parser.add_argument("--block", type=int, default=10, help="timed iterations per block")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from step_cost import time_variants

    from gan_helpers import make_config
    from gan_helpers.core.hardware import hardware_summary

    policies = args.policies.split(":")
    seconds = time_variants({policy: {"d_augment": policy} for policy in policies},
                            args.rounds, args.block)
    print(f"{hardware_summary()}; default preset, fused step, batch {make_config().batch_size}, "
          f"median of {args.rounds} blocks of {args.block} iterations each, policies interleaved")
    base = seconds[policies[0]]
    for policy in policies:
        print(f"  d_augment={policy or '(none)':20s} {seconds[policy]:.3f} s/iteration  "
              f"{seconds[policy] / base:.3f}x of {policies[0] or '(none)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
