"""Can a trained generator be made to draw more varied faces without training it again?

    python research/sampler_knobs.py --run-dir runs/default
    python research/sampler_knobs.py --run-dir runs/default --z-scales 1,1.25,1.5 --no-batch-stats

Scores one run's generator with ``evaluate``'s protocol (the same real images, noise and
SWD directions for the same ``--seed``) under a few ways of sampling it:

* ``z x s``: the noise multiplied by ``s`` before G sees it. Below 1 this is a simple form
  of the truncation trick, which trades variety for fidelity (Brock et al. 2018 resample
  the noise's large values instead of scaling them); above 1 it runs the trade backwards,
  asking G for faces farther from the middle of its latent space.
* ``batch stats``: G in training mode, so its BatchNorm layers normalise each batch of 128
  samples with that batch's own statistics instead of the moving averages. (A Keras 3
  call in training mode also moves those averages; the tool puts them back afterwards.)

It prints one row per variant: SWD (x1e3), attribute coverage, the Fréchet distance in the
attribute network's features, precision, recall, the samples' feature spread and neighbour
coverage (see ``gan_helpers.evaluation.attributes.precision_recall``). Only for the built-in faces.
"""
from __future__ import annotations

import argparse

import numpy as np


class _Sampler:
    """What ``evaluate_generator`` calls: ``predict(noise, batch_size, verbose)``."""

    def __init__(self, generator, z_scale: float = 1.0, batch_stats: bool = False):
        self.generator, self.z_scale, self.batch_stats = generator, z_scale, batch_stats

    def predict(self, noise, batch_size: int = 128, verbose: int = 0):
        noise = np.asarray(noise, np.float32) * np.float32(self.z_scale)
        if not self.batch_stats:
            return np.asarray(self.generator.predict(noise, batch_size=batch_size, verbose=0))
        saved = [w.numpy() for w in self.generator.non_trainable_weights]
        try:
            return np.concatenate([
                np.asarray(self.generator(noise[i:i + batch_size], training=True))
                for i in range(0, len(noise), batch_size)])
        finally:  # a training-mode call has moved BatchNorm's averages: put them back
            for weight, value in zip(self.generator.non_trainable_weights, saved):
                weight.assign(value)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--z-scales", default="1,1.25,1.5",
                        help="comma-separated noise multipliers (default 1,1.25,1.5)")
    parser.add_argument("--no-batch-stats", action="store_true",
                        help="skip the row with BatchNorm on batch statistics")
    parser.add_argument("--count", type=int, default=None, help="images per set (default 1024)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from gan_helpers.evaluation.evaluate import evaluate_generator, evaluation_reference
    from gan_helpers.core.training import load_run

    try:
        scales = [float(s) for s in args.z_scales.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--z-scales must be comma-separated numbers, got {args.z_scales!r}")
    run = load_run(args.run_dir)
    variants = [(f"z x {s:g}", _Sampler(run.sampler, s)) for s in scales]
    if not args.no_batch_stats:
        variants.append(("batch stats", _Sampler(run.sampler, 1.0, batch_stats=True)))
    # The real side once, for every row: the classifier (trained here on first use, before
    # the table starts), its pass over all real faces, the real-vs-real and blurred rows.
    reference = evaluation_reference("cartoon-faces", run.config.image_size, count=args.count,
                                     seed=args.seed, attributes=True)
    print(f"{args.run_dir}, step {run.step}")
    print(f"{'sampler':<12} {'SWD':>6} {'cov %':>6} {'FD':>6} {'prec':>5} {'recall':>6} "
          f"{'spread':>6} {'n.cov':>6}")
    for name, sampler in variants:
        result = evaluate_generator(sampler, run.config.latent_dim, "cartoon-faces",
                                    run.config.image_size, count=args.count, seed=args.seed,
                                    attributes=True, reference=reference)
        attr = result["attributes"]
        print(f"{name:<12} {result['swd']['swd_mean']:6.1f} "
              f"{attr['coverage']['mean'] * 100:6.1f} {attr['fd']:6.1f} {attr['precision']:5.2f} "
              f"{attr['recall']:6.2f} {attr['feature_spread']:6.3f} "
              f"{attr['neighbour_coverage']:6.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
