"""Between two parts, or like none: how the attribute network's probability mass spreads
over the values of each part, for real faces, real faces blended two by two, and runs.

    python research/part_certainty.py runs/eq/default-s0 runs/eq/full-s0 [--count 1024]

For each set and attribute, the mean over the images of the largest probability (top 1:
``evaluate``'s certainty), of the two largest summed (top 2) and of the three (top 3). A
sample drawn between two hair styles scores like a blend (top 1 low, top 2 near 1); one
whose hair style is like none of them keeps a low top 2 and top 3 as well. Samples come
from ``evaluate``'s noise (``--seed``, default 0); real faces are the first ``--count``
built-in faces.
"""
from __future__ import annotations

import argparse
from pathlib import Path

ATTRIBUTES = ("hair_style", "eyes", "mouth", "hair_colour")


def mass_rows(classifier, sets: dict, attributes=ATTRIBUTES) -> dict[str, dict[str, tuple]]:
    """``{set: {attribute: (top 1, top 2, top 3)}}`` for each set of uint8 images."""
    from gan_helpers.evaluation.attributes import top_mass

    rows = {}
    for label, images in sets.items():
        probabilities = classifier.probabilities(images)
        masses = [top_mass({a: probabilities[a] for a in attributes}, k) for k in (1, 2, 3)]
        rows[label] = {a: tuple(m[a] for m in masses) for a in attributes}
    return rows


def main(argv=None) -> int:
    import gan_helpers as gh
    from gan_helpers.evaluation.attributes import blend_with_next, load_attribute_classifier
    from gan_helpers.core.batches import unscale_images
    from gan_helpers.evaluation.evaluate import evaluation_noise

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", type=Path, nargs="*", help="runs on the built-in faces")
    parser.add_argument("--count", type=int, default=1024, help="images per set (default 1024)")
    parser.add_argument("--seed", type=int, default=0, help="evaluate's seed (default 0)")
    args = parser.parse_args(argv)
    if args.count < 2:
        parser.error(f"--count must be at least 2, got {args.count}")
    runs = [gh.load_run(path) for path in args.run_dirs]
    size = runs[0].config.image_size if runs else 64
    classifier = load_attribute_classifier()
    real = gh.load_cartoon_faces(args.count, size)
    sets = {"real": real, "real, blended two by two": blend_with_next(real)}
    for path, run in zip(args.run_dirs, runs):
        noise = evaluation_noise(args.seed, args.count, run.config.latent_dim)
        sets[f"{path} (step {run.step})"] = unscale_images(run.sample(noise))
    rows = mass_rows(classifier, sets)
    print(f"mean probability of the top 1 / 2 / 3 values, {args.count} images per set")
    width = max(len(label) for label in rows)
    print(" " * width + "".join(f"  {a:>18s}" for a in ATTRIBUTES))
    for label, masses in rows.items():
        cells = "".join(f"  {' / '.join(f'{m:.0%}' for m in masses[a]):>18s}" for a in ATTRIBUTES)
        print(f"{label:<{width}s}{cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
