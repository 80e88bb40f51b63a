"""The attribute metric: labelled renders, the classifier, coverage, precision/recall, duplicates.

The classifier here is the quick one (``GAN_QUICK=1``: 2,000 faces, 6 epochs, trained once
per test session into the session's cache folder), so the assertions leave wide margins;
the full classifier's accuracies come from ``python -m gan_helpers attributes``.
"""
from __future__ import annotations

import numpy as np
import pytest

import gan_helpers as gh
from gan_helpers.evaluation import attributes as attr
from gan_helpers.core.config import QUICK


def _hex_rgb(value: str) -> np.ndarray:
    return np.array([int(value[i:i + 2], 16) for i in (0, 2, 4)])


def test_labelled_faces_are_drawn_with_the_recorded_parts():
    images, labels = attr.render_labelled_faces(12, 64, seed=5, progress=False)
    again, labels_again = attr.render_labelled_faces(12, 64, seed=5, progress=False)
    assert images.shape == (12, 64, 64, 3) and images.dtype == np.uint8
    assert np.array_equal(images, again)  # deterministic for a seed
    values = attr.attribute_values()
    assert set(labels) == set(values)
    for name, label in labels.items():
        assert np.array_equal(label, labels_again[name])
        assert label.min() >= 0 and label.max() < len(values[name])
    # The recorded skin colour covers a large flat area of each face; the other skin
    # colours of the style do not.
    for image, skin in zip(images, labels["skin"]):
        flat = image.reshape(-1, 3).astype(int)
        counts = [np.sum(np.abs(flat - _hex_rgb(colour)).max(1) <= 3) for colour in values["skin"]]
        assert int(np.argmax(counts)) == skin and counts[skin] > 100


def test_attribute_values_come_from_the_style():
    values = attr.attribute_values()
    assert len(values["skin"]) == 4 and len(values["hair_colour"]) == 14
    assert values["glasses"][0] == "none"
    assert all(len(v) >= 4 for v in values.values())


def test_coverage_is_one_for_equal_histograms_and_the_share_for_a_collapse():
    rng = np.random.default_rng(0)
    values = {"a": list("0123"), "b": list("01")}
    real = {"a": rng.integers(0, 4, 4000), "b": rng.integers(0, 2, 4000)}
    assert attr.attribute_coverage(real, real, values)["mean"] == pytest.approx(1.0)
    collapsed = {"a": np.zeros(100, int), "b": np.zeros(100, int)}
    coverage = attr.attribute_coverage(real, collapsed, values)
    assert coverage["a"] == pytest.approx(np.mean(real["a"] == 0), abs=1e-3)  # ~0.25
    assert coverage["b"] == pytest.approx(np.mean(real["b"] == 0), abs=1e-3)  # ~0.5
    assert coverage["mean"] < 0.45


def test_precision_and_recall_separate_realism_from_variety():
    rng = np.random.default_rng(1)
    real = rng.standard_normal((400, 8))
    same = attr.precision_recall(real, rng.standard_normal((400, 8)))
    assert same["precision"] > 0.8 and same["recall"] > 0.8
    # Every sample near one real point: realistic (high precision) but not varied.
    collapsed = attr.precision_recall(real, real[:1] + 0.01 * rng.standard_normal((400, 8)))
    assert collapsed["precision"] > 0.9 and collapsed["recall"] < 0.2
    # Samples off the data: neither.
    far = attr.precision_recall(real, rng.standard_normal((400, 8)) + 10.0)
    assert far["precision"] == 0.0 and far["recall"] == 0.0
    assert far["neighbour_coverage"] == 0.0


def test_shrunken_samples_lose_recall_but_keep_neighbour_coverage():
    # Samples drawn like the real points but at 0.6 of their spread: each lies among real
    # ones and lands in most real neighbourhoods near the centre, yet their balls are small.
    rng = np.random.default_rng(2)
    real = rng.standard_normal((500, 8))
    same = attr.precision_recall(real, rng.standard_normal((500, 8)))
    shrunk = attr.precision_recall(real, 0.6 * rng.standard_normal((500, 8)))
    assert 0.8 < same["feature_spread"] < 1.2
    assert 0.5 < shrunk["feature_spread"] < 0.7
    assert shrunk["fake_radius"] < 0.8 * shrunk["real_radius"]
    assert shrunk["recall"] < same["recall"] - 0.2
    assert shrunk["neighbour_coverage"] > shrunk["recall"] + 0.1
    assert same["neighbour_coverage"] > 0.7
    with pytest.raises(ValueError, match="more than k=3"):
        attr.precision_recall(real[:3], real[:3])


def test_near_duplicate_share_flags_repeated_faces(faces32):
    real_a, real_b = faces32[:160], faces32[160:]
    fine = attr.near_duplicate_share(real_a, real_b)
    assert fine["share"] <= 0.05 and fine["real_share"] <= 0.05
    repeated = np.concatenate([real_a[:20]] * 8)  # every face 8 times
    assert attr.near_duplicate_share(repeated, real_b)["share"] == pytest.approx(1.0)


def test_exact_twins_in_the_data_do_not_hide_copies_or_collapse(faces32):
    """A dataset holding some pictures twice (OpenMoji) used to set both thresholds to 0 once
    1 % of its images had a twin, so collapse and copies both read 0 %."""
    from gan_helpers.evaluation.metrics import memorisation_check

    real = np.concatenate([faces32[:150], faces32[:10]])  # 20 of 160 images have an exact twin
    repeated = np.concatenate([faces32[200:220]] * 8)
    shares = attr.near_duplicate_share(repeated, real)
    assert shares["threshold"] > 0 and shares["share"] == pytest.approx(1.0)
    assert shares["real_share"] >= 20 / 160  # the twins themselves still count as close
    copies = memorisation_check(gh.scale_images(faces32[:64]), real, probe_count=160)
    assert copies["close_threshold"] > 0 and copies["memorised"]
    from gan_helpers.core.distances import twin_threshold
    assert twin_threshold(np.zeros(5)) == 0.0


@pytest.fixture(scope="module")
def classifier():
    # Session cache folder (conftest): trained once in quick mode, loaded after that.
    return attr.load_attribute_classifier(progress=False)


@pytest.fixture(scope="module")
def real_faces():
    return gh.load_cartoon_faces(320, 64)


def test_classifier_reads_attributes_far_above_chance(classifier, capsys):
    values = attr.attribute_values()
    with capsys.disabled():
        print("\nheld-out accuracy (quick classifier):" if QUICK else "\nheld-out accuracy:",
              {k: f"{v:.0%} (chance {1 / len(values[k]):.0%})" for k, v in classifier.accuracy.items()})
    assert set(classifier.accuracy) == set(values)
    # Measured with the quick classifier of version 2 (half its faces blurred; AMD EPYC,
    # AVX-512): 4x (mouth) to 24x chance; the full one (``python -m gan_helpers attributes``)
    # reads 88-100 %.
    for name in values:
        assert classifier.accuracy[name] > 3 / len(values[name]), name
    assert classifier.accuracy["skin"] > 0.6


def test_classifier_outputs_labels_and_features_at_any_size(classifier, real_faces):
    labels = classifier.predict(real_faces[:10])
    assert set(labels) == set(attr.attribute_values())
    assert all(v.shape == (10,) for v in labels.values())
    features = classifier.features(real_faces[:10])
    small = classifier.features(gh.load_cartoon_faces(10, 32))  # resized to 64 px inside
    assert features.shape == small.shape == (10, 128)
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        classifier.predict(np.zeros((4, 64, 64)))


def test_report_ranks_real_above_blurred_above_noise_and_flags_a_collapse(classifier, real_faces):
    from PIL import Image, ImageFilter

    real_a, real_b = real_faces[:160], real_faces[160:]
    reference = classifier.predict(real_faces)
    halves = attr.attribute_report(classifier, real_a, real_b, reference)
    assert halves["precision"] > 0.6 and halves["recall"] > 0.6
    assert halves["coverage"]["mean"] > 0.6

    blurred = np.stack([np.asarray(Image.fromarray(f).filter(ImageFilter.GaussianBlur(2)))
                        for f in real_b])
    noise = np.random.default_rng(0).integers(0, 256, real_b.shape, dtype=np.uint8)
    fd = {name: attr.attribute_report(classifier, real_a, images, reference)["fd"]
          for name, images in (("real", real_b), ("blurred", blurred), ("noise", noise))}
    assert fd["real"] < fd["blurred"] < fd["noise"]

    collapsed = np.repeat(real_b[:1], len(real_b), axis=0)
    one_face = attr.attribute_report(classifier, real_a, collapsed, reference)
    assert one_face["recall"] < 0.2 < halves["recall"]
    assert one_face["coverage"]["mean"] < 0.5 < halves["coverage"]["mean"]


def test_certainty_tells_a_blend_of_two_faces_from_a_collapse(classifier, real_faces):
    real_a, real_b = real_faces[:160], real_faces[160:]
    reference = classifier.predict(real_faces)
    halves = attr.attribute_report(classifier, real_a, real_b, reference)["certainty"]
    # Each image the average of two different faces: every part is half of two parts.
    blends = attr.blend_with_next(real_b)
    assert np.array_equal(blends[0], ((real_b[0].astype(float) + real_b[1]) / 2).round())
    blended = attr.attribute_report(classifier, real_a, blends, reference)["certainty"]
    print(f"\ncertainty (quick classifier): real {halves}, blends {blended}")
    assert set(halves) == set(attr.attribute_values()) | {"mean"}
    # The quick classifier (measured on an Intel Xeon, AVX-512): mean 0.48 real, 0.40
    # blended; hair colour 0.68 / 0.48, skin 0.90 / 0.75. The full one: 0.97 / 0.80.
    assert blended["mean"] < halves["mean"] - 0.03
    for name in ("hair_colour", "skin"):
        assert blended[name] < halves[name] - 0.08, name
    # One real face repeated: each image is as sure as that face alone (certainty is per
    # image and cannot see a collapse), while coverage falls.
    collapsed = attr.attribute_report(classifier, real_a, np.repeat(real_b[:1], 160, axis=0),
                                      reference)
    alone = attr.attribute_certainty(classifier.probabilities(real_b[:1]))
    assert collapsed["certainty"] == pytest.approx(alone, abs=2e-4)
    assert collapsed["coverage"]["mean"] < 0.5


def test_blur_images_blurs_each_image_by_its_own_radius(real_faces):
    faces = real_faces[:3]
    same = attr.blur_images(faces, 0)
    assert same.dtype == np.uint8 and np.array_equal(same, faces)
    mixed = attr.blur_images(faces, [0.0, 1.0, 2.0])
    assert np.array_equal(mixed[0], faces[0]) and not np.array_equal(mixed[1], faces[1])
    # More blur, less detail: neighbouring pixels differ less.
    detail = [np.abs(np.diff(x.astype(float), axis=1)).mean() for x in mixed]
    assert detail[0] > detail[1] > detail[2]


def test_a_slightly_blurred_face_is_read_as_the_same_parts(classifier, real_faces):
    # Version 2 trains on blurred faces too: softness alone must not read as other parts
    # (version 1 read real faces blurred by 1 px as covering 54 % of the attributes).
    reference = classifier.predict(real_faces)
    crisp = attr.attribute_coverage(reference, classifier.predict(real_faces[160:]))["mean"]
    soft = attr.attribute_coverage(
        reference, classifier.predict(attr.blur_images(real_faces[160:], 1.0)))["mean"]
    assert soft > crisp - 0.15, (soft, crisp)
    assert set(classifier.accuracy_blurred) == set(attr.attribute_values())


def test_missing_classifier_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m gan_helpers attributes"):
        attr.load_attribute_classifier(cache_dir=tmp_path, train_if_missing=False)


def test_precision_recall_reports_how_tightly_each_set_is_packed():
    rng = np.random.default_rng(3)
    real = rng.standard_normal((300, 8))
    tight = attr.precision_recall(real, 0.3 * rng.standard_normal((300, 8)))
    # Samples in the middle of the real cloud, packed 3x tighter: realistic, little recall.
    assert tight["fake_radius"] < 0.5 * tight["real_radius"]
    assert tight["precision"] > 0.9 and tight["recall"] < 0.5
    same = attr.precision_recall(real, rng.standard_normal((300, 8)))
    assert 0.7 < same["fake_radius"] / same["real_radius"] < 1.4


def test_training_the_classifier_shows_the_packages_one_progress_bar(capsys):
    """Not Keras' own fit() bar, whose ANSI codes fill a terminal log with thousands of lines."""
    attr.train_attribute_classifier(count=64, epochs=1, progress=True)
    out = capsys.readouterr().out
    assert "training the attribute classifier: 100%" in out and "━" not in out  # Keras draws ━
    assert "\x1b[" not in out
