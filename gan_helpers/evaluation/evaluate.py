"""Evaluate a trained run offline: SWD, near-duplicates and, on the built-in faces, attributes.

``python -m gan_helpers evaluate --run-dir R [--data D] [--json]``. No network is needed:
the sliced Wasserstein distance (Karras et al. 2018) works on image patches, the
near-duplicate share on pixels, and for runs on the built-in ``cartoon-faces`` the
attribute classifier (:mod:`gan_helpers.evaluation.attributes`) gives coverage, precision, recall
and a Fréchet distance in its feature space. KID and FID need InceptionV3's ImageNet
weights, which cannot be downloaded here; the report says so rather than printing a
number it did not measure.

The protocol (which real images, which noise) is this module's, and
:mod:`gan_helpers.evaluation.compare` scores with it too: :func:`reference_from_images` draws the
real sets, :func:`evaluation_samples` the samples, and :func:`swd_scores` and
:func:`sample_scores` score them, so the same generator, data, count and seed get the
same numbers from ``evaluate`` and from ``compare``.
"""
from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np

from ..core.config import quick_value
from .attributes import (attribute_report, blur_images, load_attribute_classifier,
                         near_duplicate_share)
from ..core.batches import scale_images, unscale_images
from ..core.data import CARTOON_FACES, load_dataset
from ..core.gan import sample_noise
from ..core.distances import diversity_ratio
from .metrics import (INCEPTION_PROTOCOL, SWD_PROTOCOL, frechet_distance,
                      inception_features, inception_model, kernel_inception_distance,
                      memorisation_check, sliced_wasserstein_distance)
from ..core.viz import save_image_grid

BLUR_REFERENCE = 1.0
"""Gaussian blur radius (px) of the real images in ``evaluate``'s third attribute row."""


def evaluate_run(run_dir, data: str | None = None, count: int | None = None, seed: int = 0,
                 pairs_path=None, inception_weights=None, attributes: bool | None = None) -> dict:
    """SWD of a run's samples against real images, beside real-vs-real on disjoint halves.

    Args:
        run_dir: a run folder with a checkpoint.
        data: ``"cartoon-faces"`` or a folder (default: the data the run trained on).
        count: images per set (default 1024; 128 in quick mode). The data needs 2 x count
            images for the real-vs-real floor (fewer: the count shrinks to half the data).
        seed: fixes which real images, the noise and the SWD's patches and directions.
        pairs_path: also write a PNG of the 8 samples closest to a training image (top row)
            above those training images (bottom row).
        inception_weights: ``"imagenet"`` (downloads; works on Colab) or a weights file
            for InceptionV3 without its top, to compute KID and FID (see
            :func:`gan_helpers.evaluation.metrics.inception_model`); None skips them.
        attributes: score with the attribute classifier (trained once on first use);
            default: when the data is the built-in ``cartoon-faces``.

    Returns:
        A dict with ``swd`` (per level and mean), ``swd_real_floor``, ``diversity``,
        ``memorisation`` (see :func:`gan_helpers.evaluation.metrics.memorisation_check`),
        ``near_duplicates`` (see :func:`gan_helpers.evaluation.attributes.near_duplicate_share`),
        ``attributes``, ``attributes_real_floor`` and ``attributes_real_blurred`` (real
        images blurred by :data:`BLUR_REFERENCE` px: what softness alone costs; see
        :func:`gan_helpers.evaluation.attributes.attribute_report`; None for other data), the
        protocol, the run's step, and ``kid``/``fid`` as None with ``skipped`` saying why.
    """
    from ..core.training import open_run, read_run_folder

    folder = read_run_folder(run_dir)  # config.json, read once for the check and the run
    if folder.conditions is not None:
        raise ValueError(f"{run_dir} holds a conditional run: evaluate scores unconditional "
                         f"runs; notebook 08 measures how well a conditional run obeys "
                         f"(gan_helpers.conditional.measure_obedience)")
    run = open_run(folder, conditional=False)
    data = data or run.data
    if data == "<array>":
        raise ValueError(f"{run_dir} was trained on an in-memory array: pass --data")
    result = evaluate_generator(run.sampler, run.config.latent_dim, data, run.config.image_size,
                                count=count, seed=seed, pairs_path=pairs_path,
                                inception_weights=inception_weights, attributes=attributes,
                                description="EMA of G's weights" if run.ema is not None else "G")
    return {"run_dir": str(run_dir), "step": run.step, **result}


@dataclasses.dataclass
class EvaluationReference:
    """The real side of ``evaluate``'s protocol, computed once for any number of generators.

    Build it with :func:`evaluation_reference` and pass it to :func:`evaluate_generator` as
    ``reference=``: scoring several samplers or epochs against the same real images then
    skips loading the data, the attribute network's pass over every real face, and the
    real-vs-real and blurred rows, which do not depend on the generator.
    """
    data: str
    image_size: int
    count: int
    seed: int
    attributes: bool
    images: np.ndarray  # the whole dataset, uint8 (memorisation looks through all of it)
    real_a: np.ndarray  # the first ``count`` of the shuffled images, in [-1, 1]: the samples' match
    real_b: np.ndarray  # the next ``count``, in [-1, 1]: the real-vs-real floor
    swd_floor: dict
    classifier: object = None  # AttributeClassifier when ``attributes``
    reference_labels: dict | None = None  # its predictions on every real face
    real_features: np.ndarray | None = None  # its features of ``real_a``
    attributes_floor: dict | None = None  # real_b's row
    attributes_blurred: dict | None = None  # real_b blurred by BLUR_REFERENCE px


def _images_per_set(count: int | None, available: int) -> int:
    """``count`` (default 1024; 128 in quick mode), at most half of the ``available`` images."""
    return min(count or quick_value(1024, 128), available // 2)


def evaluation_sets(images: np.ndarray, count: int | None = None, seed: int = 0,
                    data: str = "the data") -> tuple[np.ndarray, np.ndarray]:
    """The protocol's two disjoint real sets of ``images`` (uint8), as uint8.

    The images are shuffled with ``seed``; the first ``count`` are what samples are
    compared with, the next ``count`` the real-vs-real floor. ``count``: default 1024
    (128 in quick mode), at most half of the images.

    Raises:
        ValueError: fewer than 2 images per set (``data`` names the images).
    """
    count = _images_per_set(count, len(images))
    if count < 2:
        raise ValueError(f"{data} has too few images to evaluate ({len(images)})")
    order = np.random.default_rng(seed).permutation(len(images))
    return images[order[:count]], images[order[count:2 * count]]


def reference_from_images(images: np.ndarray, data: str = "<array>", count: int | None = None,
                          seed: int = 0, attributes: bool = False,
                          blurred: bool = True) -> EvaluationReference:
    """The real side of the protocol for ``images`` (uint8 (N, S, S, 3), the whole dataset):
    :func:`evaluation_sets`, the SWD floor and, with ``attributes``, the attribute network's
    labels of every image, features of the first set and the floor's row (and, with
    ``blurred``, the row of the second set blurred by :data:`BLUR_REFERENCE` px).
    ``data`` names the images in the reference."""
    first, second = evaluation_sets(images, count, seed, data)
    real_a, real_b = scale_images(first), scale_images(second)
    reference = EvaluationReference(
        data=str(data), image_size=int(images.shape[1]), count=len(first), seed=seed,
        attributes=bool(attributes), images=images, real_a=real_a, real_b=real_b,
        swd_floor=sliced_wasserstein_distance(real_a, real_b, seed=seed))
    if attributes:
        classifier = load_attribute_classifier()
        # Coverage compares each set's attribute histogram with the whole dataset's.
        labels, features = classifier.predict(images), classifier.features(real_a)
        reference.classifier, reference.reference_labels, reference.real_features = (
            classifier, labels, features)
        reference.attributes_floor = attribute_report(classifier, real_a, real_b, labels, features)
        if blurred:  # the second set blurred by 1 px: what softness alone costs in these scores
            reference.attributes_blurred = attribute_report(
                classifier, real_a, blur_images(second, BLUR_REFERENCE), labels, features)
    return reference


def evaluation_reference(data: str = CARTOON_FACES, image_size: int = 64, count: int | None = None,
                         seed: int = 0, attributes: bool | None = None) -> EvaluationReference:
    """The real images and their scores for :func:`evaluate_generator` (same arguments)."""
    images = load_dataset(data, image_size, progress=False)
    if attributes is None:
        attributes = str(data) == CARTOON_FACES
    return reference_from_images(images, data, count, seed, attributes)


def evaluation_noise(seed: int, count: int, latent_dim: int) -> np.ndarray:
    """The noise ``evaluate`` samples a generator with, for its ``seed`` and ``count``."""
    return sample_noise(np.random.default_rng([seed, 7]), count, latent_dim)


def evaluation_samples(generator, latent_dim: int, reference: EvaluationReference) -> np.ndarray:
    """The generator's images for the protocol's noise (:func:`evaluation_noise` of the
    reference's seed and count), in inference mode; ``generator`` has ``predict``."""
    noise = evaluation_noise(reference.seed, reference.count, latent_dim)
    return generator.predict(noise, batch_size=128, verbose=0)


def swd_scores(reference: EvaluationReference, fake) -> tuple[dict, float]:
    """``(swd, diversity)`` of samples ``fake`` (in [-1, 1]): the SWD per level and mean
    against the first real set, and their spread over the second set's (256 of each)."""
    return (sliced_wasserstein_distance(reference.real_a, fake, seed=reference.seed),
            round(diversity_ratio(fake[:256], reference.real_b[:256]), 3))


def sample_scores(reference: EvaluationReference, fake, others=None) -> dict:
    """``near_duplicates`` of ``fake`` (threshold from ``others``, default the second real
    set) and ``attributes`` (the attribute network's scores against the first set; None
    without the network)."""
    others = reference.real_b if others is None else others
    attributes = None
    if reference.attributes:
        attributes = attribute_report(reference.classifier, reference.real_a, fake,
                                      reference.reference_labels, reference.real_features)
    return {"near_duplicates": near_duplicate_share(fake, others), "attributes": attributes}


def evaluate_generator(generator, latent_dim: int, data: str = CARTOON_FACES, image_size: int = 64,
                       count: int | None = None, seed: int = 0, pairs_path=None,
                       inception_weights=None, attributes: bool | None = None,
                       description: str = "G", reference: EvaluationReference | None = None) -> dict:
    """Score a generator in memory with :func:`evaluate_run`'s protocol (same real images,
    noise, patches and directions for the same ``seed``), e.g. from a notebook or at
    chosen epochs of a run. ``generator`` maps noise (N, ``latent_dim``) to images in
    [-1, 1] and is called in inference mode; ``description`` names it in the protocol; the
    other arguments are ``evaluate_run``'s. ``reference``, from
    :func:`evaluation_reference` with the same data, size, count, seed and attributes,
    saves recomputing the real side when scoring several generators."""
    if reference is None:
        reference = evaluation_reference(data, image_size, count, seed, attributes)
    else:
        asked = dict(data=str(data), image_size=image_size, seed=seed,
                     count=_images_per_set(count, len(reference.images)),
                     attributes=reference.attributes if attributes is None else bool(attributes))
        built = {key: getattr(reference, key) for key in asked}
        if asked != built:
            differ = ", ".join(f"{key} {asked[key]!r} (reference: {built[key]!r})"
                               for key in asked if asked[key] != built[key])
            raise ValueError(f"this evaluation reference was built for other settings: {differ}")
    images, real_a, real_b, count = reference.images, reference.real_a, reference.real_b, reference.count
    fake = evaluation_samples(generator, latent_dim, reference)
    memo = memorisation_check(fake, images, probe_count=count, seed=seed)
    if pairs_path is not None:
        closest = np.argsort(memo["distances"])[:8]
        pairs = np.concatenate([unscale_images(fake[closest]), images[memo["indices"][closest]]])
        save_image_grid(pairs, pairs_path, ncols=len(closest), scale=2)
    swd, diversity = swd_scores(reference, fake)
    scores = sample_scores(reference, fake)
    kid = fid = fid_floor = None
    skipped = ("KID/FID: skipped, no InceptionV3 weights given (offline the ImageNet weights "
               "cannot be downloaded; pass --inception-weights FILE, or 'imagenet' on Colab)")
    if inception_weights is not None:
        model = inception_model(inception_weights)
        real_features, fake_features = inception_features(real_a, model), inception_features(fake, model)
        fid = round(frechet_distance(real_features, fake_features), 3)
        kid = round(kernel_inception_distance(real_features, fake_features, seed=seed), 5)
        fid_floor = round(frechet_distance(real_features, inception_features(real_b, model)), 3)
        skipped = None
    return {
        "data": reference.data,
        "protocol": {"images_per_set": count, "seed": seed, **SWD_PROTOCOL,
                     "generator": f"{description}, inference mode (BatchNorm moving averages)"},
        "swd": swd,
        "swd_real_floor": copy.deepcopy(reference.swd_floor),
        "diversity": diversity,
        "memorisation": {k: v for k, v in memo.items() if k not in ("indices", "distances")},
        "near_duplicates": scores["near_duplicates"],
        "attributes": scores["attributes"],
        "attributes_real_floor": copy.deepcopy(reference.attributes_floor),
        "attributes_real_blurred": copy.deepcopy(reference.attributes_blurred),
        "pairs": None if pairs_path is None else str(pairs_path),
        "kid": kid, "fid": fid, "fid_real_floor": fid_floor, "skipped": skipped,
        "inception_protocol": None if kid is None else {
            **INCEPTION_PROTOCOL, "weights": str(inception_weights), "images_per_set": count},
    }


def verdict_lines(result: dict) -> list[str]:
    """The two verdicts of an :func:`evaluate_run` result a person acts on: do the samples
    copy training images (memorisation), and do they repeat each other (near-duplicates)."""
    memo, dup = result["memorisation"], result["near_duplicates"]
    verdict = "looks memorised" if memo["memorised"] else "no sign of memorisation"
    collapse = "looks collapsed" if dup["share"] >= 0.10 \
        else "varied"
    return [f"memorisation: {verdict} ({memo['close_fraction']:.1%} of samples are closer to a "
            f"training image than 99% of real images are to theirs)",
            f"near-duplicates: {collapse} ({dup['share']:.1%} of samples have a near-twin "
            f"among the samples; real images {dup['real_share']:.1%})"]


def print_report(result: dict, as_json: bool = False) -> None:
    swd, floor = result["swd"], result["swd_real_floor"]
    levels = [key for key in swd if key != "swd_mean"]
    print(f"{result['run_dir']} at step {result['step']} vs {result['data']} "
          f"({result['protocol']['images_per_set']} images each, seed {result['protocol']['seed']})")
    print(f"  {'SWD x1e3':<18}" + "".join(f"{k[4:] + ' px':>9}" for k in levels) + f"{'mean':>9}")
    print(f"  {'generated vs real':<18}" + "".join(f"{swd[k]:9.1f}" for k in levels)
          + f"{swd['swd_mean']:9.1f}")
    print(f"  {'real vs real':<18}" + "".join(f"{floor[k]:9.1f}" for k in levels)
          + f"{floor['swd_mean']:9.1f}   (the floor)")
    print(f"  spread of samples vs real: {result['diversity']:.2f} (1 = as varied as the data)")
    memo = result["memorisation"]
    verdict = "looks memorised" if memo["memorised"] else "no sign of memorisation"
    print(f"  nearest training image (RMS pixel distance): samples {memo['sample_nn_median']:.3f}, "
          f"real images {memo['real_nn_median']:.3f} (medians); "
          f"{memo['close_fraction']:.1%} of samples closer than 99% of real pairs: {verdict}")
    dup = result["near_duplicates"]
    print(f"  near-duplicates: {dup['share']:.1%} of samples have another sample closer than "
          f"{dup['threshold']:.3f} (real images: {dup['real_share']:.1%})")
    attr, floor_attr = result.get("attributes"), result.get("attributes_real_floor")
    if attr is not None:
        print("  attribute network (offline; its FD is a stand-in for FID, not comparable to FID):")
        print(f"    {'':<18}{'FD':>8}{'precision':>11}{'recall':>8}{'coverage':>10}")
        blurred = result.get("attributes_real_blurred")
        rows = [("generated vs real", attr), ("real vs real", floor_attr)]
        rows += [(f"real blurred {BLUR_REFERENCE:g} px", blurred)] if blurred else []
        for label, row in rows:
            print(f"    {label:<18}{row['fd']:8.2f}{row['precision']:11.2f}{row['recall']:8.2f}"
                  f"{row['coverage']['mean']:10.1%}")
        if "fake_radius" in attr:
            print(f"    k-NN ball radius (median): samples {attr['fake_radius']:.1f}, real "
                  f"{attr['real_radius']:.1f} (samples packed tighter than real faces reach "
                  f"fewer of them: lower recall)")
        if "neighbour_coverage" in attr:
            print(f"    feature spread {attr['feature_spread']:.2f} of real faces' (real "
                  f"{floor_attr['feature_spread']:.2f}); real faces with a sample among their "
                  f"3 nearest: {attr['neighbour_coverage']:.0%} (real "
                  f"{floor_attr['neighbour_coverage']:.0%}; Naeem et al. 2020's coverage)")
        names = [k for k in attr["coverage"] if k != "mean"]
        print("    coverage per attribute: " + ", ".join(
            f"{k} {attr['coverage'][k]:.0%} (real {floor_attr['coverage'][k]:.0%})" for k in names))
        if "certainty" in attr and "certainty" in floor_attr:
            print("    certainty per attribute (mean top probability; low: parts it cannot "
                  "name): " + ", ".join(
                      f"{k} {attr['certainty'][k]:.0%} (real {floor_attr['certainty'][k]:.0%})"
                      for k in names))
    if result.get("pairs"):
        print(f"  closest sample/training pairs: {result['pairs']}")
    if result["fid"] is not None:
        print(f"  FID {result['fid']:.2f} (real vs real {result['fid_real_floor']:.2f}), "
              f"KID {result['kid']:.4f} (InceptionV3 from "
              f"{result['inception_protocol']['weights']}, {result['protocol']['images_per_set']} "
              f"images per set, bilinear resize to 299 px; compare only under the same protocol)")
    else:
        print(f"  {result['skipped']}")
    if as_json:
        print(json.dumps(result))
