"""What the attribute network can and cannot name: a run's samples, the ones it is surest of
and the ones it is least sure of, beside real faces and real faces blended two by two.

    python research/certainty_grid.py --run-dir runs/cartoon --out certainty.png

The samples are ``evaluate``'s (the same noise for the same ``--seed`` and ``--count``),
ranked by the network's mean top probability over the small parts (hair style, eyes and
mouth; ``--attributes`` picks others). Each row is labelled with its mean certainty over
those parts. Real faces score near 100 %; a sample the network cannot read is usually
smudged where a part should be, not a blend of two parts.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def ranked_rows(probabilities: dict, attributes, per_row: int) -> dict[str, np.ndarray]:
    """Indices of the ``per_row`` surest, middle and least sure images, and each image's
    certainty (the mean over ``attributes`` of its top probability)."""
    from gan_helpers.evaluation.attributes import image_certainty

    certainty = image_certainty(probabilities, attributes)
    order = np.argsort(-certainty)
    middle = len(order) // 2 - per_row // 2
    return {"surest": order[:per_row], "middle": order[middle:middle + per_row],
            "least sure": order[-per_row:], "certainty": certainty}


def main(argv=None) -> int:
    import gan_helpers as gh
    from gan_helpers.evaluation.attributes import blend_with_next, image_certainty, load_attribute_classifier
    from gan_helpers.core.batches import unscale_images
    from gan_helpers.evaluation.evaluate import evaluation_noise

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, required=True, help="a run on the built-in faces")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    parser.add_argument("--attributes", default="hair_style,eyes,mouth",
                        help="the parts to rank by (default: hair_style,eyes,mouth)")
    parser.add_argument("--count", type=int, default=1024, help="samples to rank (default 1024)")
    parser.add_argument("--per-row", type=int, default=10, help="images per row (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="evaluate's seed (default 0)")
    args = parser.parse_args(argv)
    classifier = load_attribute_classifier()
    attributes = [name.strip() for name in args.attributes.split(",") if name.strip()]
    unknown = sorted(set(attributes) - set(classifier.names))
    if unknown or not attributes:
        parser.error(f"--attributes: unknown {', '.join(unknown) or '(none given)'}; "
                     f"choose from {', '.join(classifier.names)}")

    run = gh.load_run(args.run_dir)
    samples = unscale_images(run.sample(evaluation_noise(args.seed, args.count, run.config.latent_dim)))
    ranked = ranked_rows(classifier.probabilities(samples), attributes, args.per_row)
    real = gh.load_cartoon_faces(2 * args.per_row, run.config.image_size)
    rows = {}  # label -> (images, each image's certainty)
    for label, images in (("real", real[:args.per_row]),
                          ("real, blended two by two", blend_with_next(real)[:args.per_row])):
        rows[label] = images, image_certainty(classifier.probabilities(images), attributes)
    for key in ("surest", "middle", "least sure"):
        rows[f"samples, {key}"] = samples[ranked[key]], ranked["certainty"][ranked[key]]

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rows), 1, figsize=(args.per_row * 0.9, 1.15 * len(rows)))
    for ax, (label, (images, certainty)) in zip(axes, rows.items()):
        ax.imshow(gh.make_image_grid(images, ncols=args.per_row))
        ax.set_axis_off()
        ax.set_title(f"{label}: certainty {certainty.mean():.0%}", loc="left", fontsize=9)
    fig.suptitle(f"{args.run_dir} (step {run.step}), ranked by {', '.join(attributes)}", fontsize=9)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    from PIL import Image

    with Image.open(args.out) as image:  # 256 colours: a third of the file, the same look
        image.convert("RGB").quantize(256).save(args.out, optimize=True)
    print(f"{args.out}: mean certainty of all {args.count} samples "
          f"{ranked['certainty'].mean():.0%} over {', '.join(attributes)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
