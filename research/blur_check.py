"""How much softness alone moves the attribute network's scores: real faces against real faces
blurred by a few radii, with the cached classifier or any classifier weights file.

    python research/blur_check.py                               # the classifier evaluate uses
    python research/blur_check.py --weights ~/.cache/gan_helpers/attribute-classifier-v1.weights.h5

For each Gaussian blur radius (pixels), a second half of the built-in faces, blurred, is
scored against the first half as ``evaluate`` scores samples: mean attribute coverage,
precision and recall, the Fréchet distance in the classifier's features, and the mean
certainty (the network's top probability). A classifier that reads parts, not sharpness,
keeps coverage and recall near the unblurred row's. A last row scores each face of the
second half averaged pixel by pixel with another (two sets of parts at half strength): what
a generator that draws between parts would score.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def blur_rows(classifier, faces: np.ndarray, radii, count: int, seed: int = 0) -> list[dict]:
    """One dict of scores per radius: ``faces`` split in two halves of ``count``, the second
    blurred by the radius and scored against the first; then one for the second half's
    faces each averaged with the next (``radius`` ``"blend"``)."""
    from gan_helpers.evaluation.attributes import attribute_report, blend_with_next, blur_images

    order = np.random.default_rng(seed).permutation(len(faces))
    real_a, real_b = faces[order[:count]], faces[order[count:2 * count]]
    reference, features = classifier.predict(faces), classifier.features(real_a)
    blend = blend_with_next(real_b)
    rows = []
    for radius, images in [*((r, blur_images(real_b, r)) for r in radii), ("blend", blend)]:
        report = attribute_report(classifier, real_a, images, reference, features)
        rows.append({"radius": radius, "coverage": report["coverage"]["mean"],
                     "precision": report["precision"], "recall": report["recall"],
                     "fd": report["fd"], "certainty": report["certainty"]["mean"]})
    return rows


def main(argv=None) -> int:
    import gan_helpers as gh
    from gan_helpers.evaluation.attributes import classifier_from_file, load_attribute_classifier

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=Path, help="a classifier weights file (default: the "
                        "cached one evaluate uses, trained first if missing)")
    parser.add_argument("--radii", default="0,0.5,0.75,1,1.5", help="blur radii in pixels")
    parser.add_argument("--count", type=int, default=1024, help="faces per half (default 1024)")
    args = parser.parse_args(argv)
    if args.weights is not None:
        if not args.weights.is_file():
            parser.error(f"--weights: no such file: {args.weights}")
        classifier, name = classifier_from_file(args.weights), str(args.weights)
    else:
        classifier, name = load_attribute_classifier(), "the cached classifier"
    radii = [float(r) for r in args.radii.split(",")]
    faces = gh.load_cartoon_faces(2 * args.count, 64)
    print(f"real faces blurred against real faces, {args.count} per set, {name}:")
    print(f"  {'blur px':>8}{'coverage':>10}{'precision':>11}{'recall':>8}{'FD':>9}{'certainty':>11}")
    for row in blur_rows(classifier, faces, radii, args.count):
        radius = row["radius"] if isinstance(row["radius"], str) else f"{row['radius']:.2f}"
        print(f"  {radius:>8}{row['coverage']:10.1%}{row['precision']:11.2f}"
              f"{row['recall']:8.2f}{row['fd']:9.2f}{row['certainty']:11.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
