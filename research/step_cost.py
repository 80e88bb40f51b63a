"""What a change to the recipe costs per iteration of the default's fused step, on this machine.

Times the fused step of the default preset under each variant (a set of ``GANConfig``
overrides) in alternating blocks, so that a noisy machine slows them alike, and prints each
variant's median seconds per iteration (over blocks: a block's mean, so that a term computed
every few iterations, such as the lazy R1 penalty, is counted) and its ratio to the first,
all measured in this one run, then its counted GFLOP per iteration
(``gan_helpers.core.bench.iteration_flops``) and their ratio:

    python research/step_cost.py --variants "default;r1_gamma=0.3;ema=0.999" [--rounds 6]

Variants are separated by ``;``, overrides inside one by ``,``; ``default`` is no override.
"""
from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np


def parse_variant(text: str) -> dict:
    """``"r1_gamma=0.3,d_augment=translation"`` -> overrides, typed and checked by the same
    flags as ``train``'s (``r1_gamma=0.3`` is ``--r1-gamma 0.3``; a switch takes true/false)."""
    from gan_helpers import GANConfig, cli

    kinds = {f.name: str(f.type) for f in dataclasses.fields(GANConfig)}
    argv = []
    for part in (p.strip() for p in text.split(",")):
        if not part or part == "default":
            continue
        name, _, value = (piece.strip() for piece in part.partition("="))
        if name not in kinds:
            raise ValueError(f"unknown GANConfig field {name!r} in variant {text!r}")
        flag = cli.config_flag(name)
        if kinds[name] == "bool":
            argv.append(flag if value.lower() in ("1", "true", "yes") else "--no-" + flag[2:])
        else:
            argv += [flag, value]
    parser = argparse.ArgumentParser(prog=f"variant {text!r}")
    cli._add_config_flags(parser)
    return cli.config_overrides(parser.parse_args(argv))


def time_variants(variants: dict[str, dict], rounds: int, block: int,
                  gflops: dict | None = None) -> dict[str, float]:
    """Median seconds per iteration (of block means) of the default's fused step per variant.

    ``gflops``, when given, receives each variant's counted GFLOP per iteration
    (``gan_helpers.core.bench.iteration_flops``) from the models just built for timing.
    """
    from gan_helpers import make_config, scale_images
    from gan_helpers.core.bench import iteration_flops
    from gan_helpers.core.data import load_cartoon_faces
    from gan_helpers.core.fused import FusedStep
    from gan_helpers.core.training import build_models

    rng = np.random.default_rng(0)
    steps, batch = {}, None
    for name, overrides in variants.items():
        config = make_config(**overrides)
        if batch is None:
            batch = scale_images(load_cartoon_faces(config.batch_size, config.image_size))
        models = build_models(config, seed=0)
        if gflops is not None:
            gflops[name] = iteration_flops(models[0], models[1], config.batch_size) / 1e9
        steps[name] = FusedStep(*models, config)
        for _ in range(8):  # trace every graph (a lazy term has its own) and warm up
            steps[name](batch, rng=rng)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(block):
                step(batch, rng=rng)
            times[name].append((time.perf_counter() - start) / block)
    return {name: float(np.median(values)) for name, values in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", default="default;r1_gamma=0.3;ema=0.999")
    parser.add_argument("--rounds", type=int, default=6, help="blocks per variant")
    parser.add_argument("--block", type=int, default=12, help="timed iterations per block")
    args = parser.parse_args(argv)

    from gan_helpers.core.hardware import hardware_summary

    try:
        variants = {text.strip() or "default": parse_variant(text)
                    for text in args.variants.split(";")}
    except ValueError as error:
        parser.error(str(error))
    gflops: dict[str, float] = {}
    seconds = time_variants(variants, args.rounds, args.block, gflops)
    print(f"{hardware_summary()}; default preset, fused step, median of {args.rounds} blocks "
          f"of {args.block} iterations each, variants interleaved")
    first = next(iter(variants))
    for name, value in seconds.items():
        print(f"  {name:32s} {value:.3f} s/iteration  {value / seconds[first]:.3f}x of {first}"
              f"  {gflops[name]:.1f} GFLOP/iteration ({gflops[name] / gflops[first]:.3f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
