"""What the faces are made of: labelled renders, an attribute classifier, coverage scores.

Pixel metrics such as SWD cannot tell that every sample has the same hair. The built-in
faces are assembled from known parts (hair style, hair colour, skin, eyes, mouth,
glasses), so, as the stacked-MNIST mode-collapse benchmark does with a digit classifier,
a small Keras classifier trained on faces rendered with recorded parts can read those
parts back from generated faces. Its predictions give per-attribute *coverage*, and its
penultimate layer gives a feature space for a Fréchet distance (an offline stand-in for
FID, which needs ImageNet weights) and for precision and recall (Kynkäänniemi et al. 2019).

The classifier is trained once (``python -m gan_helpers attributes``, or on first use) and
cached beside the rendered datasets. Its scores are only meaningful for the built-in
``cartoon-faces`` data.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..core.config import quick_value
from ..core.files import atomic_path, write_text_atomic
from ..core.distances import nearest_neighbours, neighbour_radii, pairwise_distances, twin_threshold
from .metrics import frechet_distance
from ..core.progress import progress_bar

CLASSIFIER_VERSION = 2
"""2 (2026-11-26): trained with half of its faces blurred (Gaussian, sigma 0.25-1.5 px), so a
slightly soft face is read by its parts, not as other parts. Version 1 (crisp faces only)
read real faces blurred by 1 px as covering 54 % of the attributes (crisp: 93 %) and gave
them recall 0: its scores measured sharpness as much as variety."""
TRAIN_BLUR = (0.25, 1.5)
"""Range of the Gaussian blur radius (pixels) drawn for the blurred half of the training faces."""
CLASSIFIER_SIZE = 64
"""Side in pixels the classifier sees; other image sizes are resized to it."""


def _adventurer_parts() -> dict[str, tuple[str, list[str]]]:
    """Attribute name -> (DiceBear option, the values it can take), read from the style."""
    from ..core.data import adventurer_definition

    definition = adventurer_definition()
    variants = {name: sorted(c["variants"]) for name, c in definition["components"].items()}
    colours = {name: [v.lstrip("#").lower() for v in c["values"]]
               for name, c in definition["colors"].items()}
    return {
        "hair_style": ("hairVariant", variants["hair"]),
        "hair_colour": ("hairColor", colours["hair"]),
        "skin": ("skinColor", colours["skin"]),
        "eyes": ("eyesVariant", variants["eyes"]),
        "mouth": ("mouthVariant", variants["mouth"]),
        "glasses": ("glassesVariant", ["none", *variants["glasses"]]),
    }


def attribute_values() -> dict[str, list[str]]:
    """Every attribute the classifier reads, with its possible values in label order.

    ``glasses`` includes ``"none"`` (label 0); colours are hex strings without ``#``.
    """
    return {name: values for name, (_, values) in _adventurer_parts().items()}


def render_labelled_faces(count: int, image_size: int = 64, seed: int = 1000,
                          glasses_share: float = 0.5, progress: bool = True,
                          choices: dict[str, list[str]] | None = None):
    """Render faces whose parts are chosen explicitly (uniformly at random) and recorded.

    Hair style, hair colour, skin, eyes and mouth are drawn uniformly from every value
    the style has; glasses appear on ``glasses_share`` of the faces (the built-in data
    has them on about 10 %), so rare values are not too rare to learn. The remaining
    parts (eyebrows, earrings, freckles …) follow the DiceBear seed.

    Args:
        count: faces to render.
        image_size: side in pixels.
        seed: fixes the choices and the DiceBear seeds; the default (1000) is disjoint
            from the built-in training faces (seed 0).
        choices: draw these attributes uniformly from the values given instead
            (``{"skin": ["f2d3b1", "763900"]}``; ``glasses_share`` then does not apply).

    Returns:
        ``(images, labels)``: uint8 (count, S, S, 3) and a dict of int arrays (count,)
        keyed by attribute, indexing :func:`attribute_values`.
    """
    from ..core.data import render_face

    if not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    parts = _adventurer_parts()
    choices = choices or {}
    for name, chosen in choices.items():
        unknown = [v for v in chosen if name not in parts or v not in parts[name][1]]
        if unknown or not chosen:
            raise ValueError(f"choices[{name!r}] must be values of {name!r}, "
                             f"got {unknown or chosen}")
    rng = np.random.default_rng([seed, 11])
    labels = {}
    for name, (_, values) in parts.items():
        if name in choices:
            allowed = np.array([values.index(v) for v in choices[name]])
            labels[name] = allowed[rng.integers(0, len(allowed), count)]
        elif name == "glasses":
            has = rng.random(count) < glasses_share
            labels[name] = np.where(has, rng.integers(1, len(values), count), 0)
        else:
            labels[name] = rng.integers(0, len(values), count)
    images = np.empty((count, image_size, image_size, 3), np.uint8)
    for i in progress_bar(range(count), desc="rendering labelled faces", unit="img",
                          enabled=progress, leave=False):
        options = {"seed": f"labelled-faces-{seed}-{i}"}
        for name, (option, values) in parts.items():
            value = values[labels[name][i]]
            if name == "glasses":
                options["glassesProbability"] = 0 if value == "none" else 100
                if value != "none":
                    options[option] = value
            elif option.endswith("Color"):
                options[option] = [value]
            else:
                options[option] = value
        images[i] = render_face(options, image_size)
    return images, {k: v.astype(np.int32) for k, v in labels.items()}


# ----------------------------------------------------------------------- the classifier

def build_attribute_classifier(values: dict[str, list[str]] | None = None, width: int = 32,
                               feature_dim: int = 128):
    """A small CNN with one softmax head per attribute, and a feature output.

    Four strided 3x3 convolution blocks (64 -> 4 px), global average pooling and a
    ``feature_dim`` ReLU layer named ``features``, then the heads. The features are what
    :func:`attribute_report` compares (Fréchet distance, precision and recall).

    Returns:
        A functional ``keras.Model`` mapping float32 (N, 64, 64, 3) in [-1, 1] to a dict
        of (N, classes) probabilities keyed by attribute.
    """
    from .._tf import keras

    layers = keras.layers
    values = values or attribute_values()
    inputs = keras.Input((CLASSIFIER_SIZE, CLASSIFIER_SIZE, 3), name="image")
    x = inputs
    for i, filters in enumerate((width, 2 * width, 4 * width, 4 * width)):
        x = layers.Conv2D(filters, 3, padding="same", name=f"conv{i}a")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"bn{i}a")(x)
        x = layers.ReLU()(x)
        x = layers.Conv2D(filters, 3, strides=2, padding="same", name=f"conv{i}b")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"bn{i}b")(x)
        x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    features = layers.Dense(feature_dim, activation="relu", name="features")(x)
    outputs = {name: layers.Dense(len(v), activation="softmax", name=name)(features)
               for name, v in values.items()}
    return keras.Model(inputs, outputs, name="attribute_classifier")


class AttributeClassifier:
    """A trained attribute classifier: predictions and features of any face images.

    Args:
        model: from :func:`build_attribute_classifier`, trained.
        accuracy: held-out accuracy per attribute, measured when it was trained.
        accuracy_blurred: the same, on the held-out faces blurred by 1 px.
    """

    def __init__(self, model, accuracy: dict[str, float] | None = None,
                 accuracy_blurred: dict[str, float] | None = None):
        from .._tf import keras

        self.model = model
        self.accuracy = dict(accuracy or {})
        self.accuracy_blurred = dict(accuracy_blurred or {})
        self.names = list(model.output)  # the heads, keyed by attribute
        self._features = keras.Model(model.input, model.get_layer("features").output)

    def _prepare(self, images) -> np.ndarray:
        from .._tf import tf
        from ..core.batches import scale_images

        array = np.asarray(images)
        if array.ndim != 4 or array.shape[-1] != 3:
            raise ValueError(f"images must be (N, H, W, 3), got shape {array.shape}")
        array = scale_images(array) if array.dtype == np.uint8 else array.astype(np.float32)
        if array.shape[1] != CLASSIFIER_SIZE:
            array = tf.image.resize(array, (CLASSIFIER_SIZE, CLASSIFIER_SIZE), method="area").numpy()
        return array

    def probabilities(self, images, batch_size: int = 256) -> dict[str, np.ndarray]:
        """Every attribute's softmax: dict of float (N, values) arrays."""
        outputs = self.model.predict(self._prepare(images), batch_size=batch_size, verbose=0)
        return {name: np.asarray(outputs[name]) for name in self.names}

    def predict(self, images, batch_size: int = 256) -> dict[str, np.ndarray]:
        """Most likely value of every attribute: dict of int (N,) label arrays."""
        return most_likely(self.probabilities(images, batch_size))

    def features(self, images, batch_size: int = 256) -> np.ndarray:
        """Penultimate-layer features, float64 (N, feature_dim)."""
        return np.asarray(self._features.predict(self._prepare(images), batch_size=batch_size,
                                                 verbose=0), np.float64)


def classifier_path(cache_dir=None) -> Path:
    """Where the trained classifier is cached (``$GAN_CACHE_DIR`` or ~/.cache/gan_helpers)."""
    from ..core.data import default_cache_dir

    root = Path(cache_dir) if cache_dir else default_cache_dir()
    suffix = "-quick" if quick_value(False, True) else ""
    return root / f"attribute-classifier-v{CLASSIFIER_VERSION}{suffix}.weights.h5"


def classifier_info_path(weights_path) -> Path:
    """The ``.json`` of held-out accuracies kept beside a classifier's weights file."""
    return Path(weights_path).with_suffix("").with_suffix(".json")


def blur_images(images, radius: float | np.ndarray) -> np.ndarray:
    """Gaussian-blur uint8 images (N, H, W, 3) with Pillow; ``radius`` in pixels, one for
    all or one per image (0 leaves an image as it is)."""
    from PIL import Image, ImageFilter

    images = np.asarray(images)
    radii = np.broadcast_to(np.asarray(radius, np.float64), (len(images),))
    out = images.copy()
    for i, r in enumerate(radii):
        if r > 0:
            out[i] = np.asarray(Image.fromarray(images[i]).filter(ImageFilter.GaussianBlur(float(r))))
    return out


def train_attribute_classifier(count: int | None = None, epochs: int | None = None,
                               seed: int = 1000, holdout: float = 0.1, progress: bool = True,
                               save_to=None, blur_share: float = 0.5) -> AttributeClassifier:
    """Render labelled faces and train the classifier on them; report held-out accuracy.

    ``blur_share`` of the training faces are blurred first (radius drawn from
    :data:`TRAIN_BLUR`), so that softness alone does not change what the classifier reads.

    Args:
        count: labelled faces to render (default 16,000; 2,000 in quick mode).
        epochs: passes over them (default 6, in quick mode too: half of the faces are blurred).
        holdout: share of the faces kept back to measure accuracy.
        save_to: write the weights and a ``.json`` of the accuracies here.
        blur_share: share of the training faces blurred (0: crisp faces only, version 1).

    Returns:
        The trained :class:`AttributeClassifier`, ``accuracy`` (crisp held-out faces) and
        ``accuracy_blurred`` (the same faces blurred by 1 px) filled in.
    """
    from .._tf import keras
    from ..core.batches import scale_images

    count = count or quick_value(16_000, 2_000)
    epochs = epochs or 6
    values = attribute_values()
    images, labels = render_labelled_faces(count, CLASSIFIER_SIZE, seed=seed, progress=progress)
    split = int(round(len(images) * (1 - holdout)))
    rng = np.random.default_rng([seed, 12])
    radius = np.where(rng.random(split) < blur_share, rng.uniform(*TRAIN_BLUR, split), 0.0)
    x = scale_images(np.concatenate([blur_images(images[:split], radius), images[split:]]))
    keras.utils.set_random_seed(seed)
    model = build_attribute_classifier(values)
    model.compile(optimizer=keras.optimizers.Adam(2e-3),
                  loss={name: "sparse_categorical_crossentropy" for name in values},
                  metrics={name: "accuracy" for name in values})
    schedule = keras.callbacks.LearningRateScheduler(
        lambda epoch, lr: 2e-3 * 0.5 * (1 + np.cos(np.pi * epoch / epochs)))
    steps = epochs * -(-split // 64)
    bar = progress_bar(total=steps, desc="training the attribute classifier", unit="step",
                       enabled=progress)
    advance = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: bar.update(1))
    model.fit(x[:split], {k: v[:split] for k, v in labels.items()}, batch_size=64,
              epochs=epochs, verbose=0, callbacks=[schedule, advance])
    bar.close()
    classifier = AttributeClassifier(model)
    held_out = attribute_accuracy(classifier, x[split:], {k: v[split:] for k, v in labels.items()})
    classifier.accuracy = {name: held_out[name] for name in values}
    soft = attribute_accuracy(classifier, blur_images(images[split:], 1.0),
                              {k: v[split:] for k, v in labels.items()})
    classifier.accuracy_blurred = {name: soft[name] for name in values}
    if save_to is not None:
        with atomic_path(save_to) as tmp:
            model.save_weights(tmp)
        write_text_atomic(classifier_info_path(save_to), json.dumps(
            {"accuracy": classifier.accuracy, "accuracy_blurred": classifier.accuracy_blurred,
             "count": count, "epochs": epochs, "seed": seed, "blur_share": blur_share,
             "train_blur": list(TRAIN_BLUR),
             "chance": {k: round(1 / len(v), 4) for k, v in values.items()}}, indent=2))
    return classifier


def load_attribute_classifier(cache_dir=None, train_if_missing: bool = True,
                              progress: bool = True) -> AttributeClassifier:
    """The cached classifier, trained first (a few minutes on a CPU) if there is none.

    Raises:
        FileNotFoundError: no cached classifier and ``train_if_missing`` is False.
    """
    path = classifier_path(cache_dir)
    if not path.exists():
        if not train_if_missing:
            raise FileNotFoundError(f"no attribute classifier at {path}: "
                                    f"run python -m gan_helpers attributes")
        if progress:
            print(f"Training the attribute classifier once (cached in {path}) ...")
        return train_attribute_classifier(progress=progress, save_to=path)
    return classifier_from_file(path)


def classifier_from_file(path) -> AttributeClassifier:
    """A classifier from its weights file (any version), with the held-out accuracies of the
    ``.json`` beside it when there is one."""
    model = build_attribute_classifier()
    model.load_weights(path)
    info_path = classifier_info_path(path)
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    return AttributeClassifier(model, info.get("accuracy", {}), info.get("accuracy_blurred", {}))


# ----------------------------------------------------------------------------- scores

def blend_with_next(images) -> np.ndarray:
    """Each uint8 face averaged pixel by pixel with the next one (the last with the first):
    two sets of parts at half strength, a stand-in for a generator that draws between them."""
    images = np.asarray(images)
    return ((images.astype(np.float32) + np.roll(images, -1, axis=0)) / 2).round().astype(np.uint8)


def most_likely(probabilities: dict) -> dict[str, np.ndarray]:
    """Each attribute's most likely value (int (N,) labels) from
    :meth:`AttributeClassifier.probabilities`."""
    return {name: np.argmax(p, axis=1) for name, p in probabilities.items()}


def image_certainty(probabilities: dict, attributes=None) -> np.ndarray:
    """Each image's certainty: its top probability, averaged over ``attributes`` (default:
    all of them), float (N,)."""
    names = list(probabilities) if attributes is None else list(attributes)
    return np.mean([np.max(probabilities[name], axis=1) for name in names], axis=0)


def attribute_certainty(probabilities: dict) -> dict[str, float]:
    """How sure the network is of each attribute: the mean over the images of the top
    probability (from :meth:`AttributeClassifier.probabilities`).

    Real faces score near 1 (each part is one of the style's). A face whose part the
    network cannot name (a blend of two eyes, a smudge) scores low, and its label, the
    most likely value, is a guess: coverage counts it, but it reaches none of the real
    faces' neighbourhoods. A collapse is the other way round: sure, but of few values.

    Returns:
        ``{attribute: mean top probability}`` plus ``"mean"`` over the attributes.
    """
    result = top_mass(probabilities, 1)
    result["mean"] = round(float(np.mean(list(result.values()))), 4)
    return result


def top_mass(probabilities: dict, k: int) -> dict[str, float]:
    """Per attribute, the mean over the images of the summed ``k`` largest probabilities.

    With ``k`` 1 this is :func:`attribute_certainty`. How it grows with ``k`` tells an image
    that lies *between* two parts (top 1 low, top 2 near 1, like two real faces blended)
    from one whose part is like none of them (the mass spread over many values).
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return {name: round(float(np.mean(np.sort(p, axis=1)[:, -k:].sum(axis=1))), 4)
            for name, p in probabilities.items()}


def attribute_coverage(real_labels: dict, fake_labels: dict, values=None) -> dict[str, float]:
    """How much of the real distribution of each attribute the samples reach.

    Per attribute, the overlap of the two histograms: the sum over values of
    ``min(p_real, p_fake)``. 1 means the samples show every value as often as real faces
    do; a generator that draws one hair style for every z scores that style's share.

    Returns:
        ``{attribute: overlap}`` plus ``"mean"`` over the attributes.
    """
    values = values or attribute_values()
    result = {}
    for name, options in values.items():
        real = np.bincount(np.asarray(real_labels[name]), minlength=len(options)) / len(real_labels[name])
        fake = np.bincount(np.asarray(fake_labels[name]), minlength=len(options)) / len(fake_labels[name])
        result[name] = round(float(np.minimum(real, fake).sum()), 4)
    result["mean"] = round(float(np.mean([result[name] for name in values])), 4)
    return result


def attribute_accuracy(classifier: AttributeClassifier, images, asked: dict) -> dict[str, float]:
    """How often the classifier reads back the attribute values that were asked for.

    Args:
        classifier: from :func:`load_attribute_classifier`.
        images: (N, H, W, 3) uint8 or float in [-1, 1].
        asked: int (N,) labels per attribute, indexing :func:`attribute_values`.

    Returns:
        ``{attribute: share read back as asked}`` plus ``"all"``: the share of images
        with every asked attribute read back, each in [0, 1].
    """
    predicted = classifier.predict(images)
    hits = {name: predicted[name] == np.asarray(labels) for name, labels in asked.items()}
    result = {name: round(float(np.mean(hit)), 4) for name, hit in hits.items()}
    result["all"] = round(float(np.mean(np.logical_and.reduce(list(hits.values())))), 4)
    return result


def precision_recall(real_features, fake_features, k: int = 3) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) in a feature space.

    Each set's manifold is the union of balls around its points, with radii the distance
    to their ``k``-th nearest neighbour in the same set. Precision: the share of samples
    inside the real manifold (are samples realistic?). Recall: the share of real images
    inside the samples' manifold (is every kind of real face drawn?).

    Also returns why recall is what it is. ``real_radius`` and ``fake_radius``: the median
    ball radius of each set; samples packed more tightly than real images (a smaller
    radius) reach fewer real points, so recall falls even when each sample sits among real
    ones. ``neighbour_coverage`` (Naeem et al. 2020's coverage): the share of real images
    whose own ball holds at least one sample, which does not shrink with the samples'
    radius. ``feature_spread``: the samples' total feature standard deviation over the
    real images' (1: as spread out as real faces; below 1: too alike in this space).
    """
    real = np.asarray(real_features, np.float64)
    fake = np.asarray(fake_features, np.float64)
    if len(real) <= k or len(fake) <= k:
        raise ValueError(f"precision_recall needs more than k={k} points per set")
    real_radii, fake_radii = neighbour_radii(real, k), neighbour_radii(fake, k)
    cross = pairwise_distances(fake, real)  # (fake, real)
    inside_real = cross <= real_radii[None, :]
    precision = float(np.mean(inside_real.any(axis=1)))
    recall = float(np.mean((cross <= fake_radii[:, None]).any(axis=0)))
    reached = float(np.mean(inside_real.any(axis=0)))
    spread = float(np.sqrt(fake.var(axis=0).sum() / max(real.var(axis=0).sum(), 1e-12)))
    return {"precision": round(precision, 4), "recall": round(recall, 4),
            "real_radius": round(float(np.median(real_radii)), 3),
            "fake_radius": round(float(np.median(fake_radii)), 3),
            "neighbour_coverage": round(reached, 4), "feature_spread": round(spread, 3)}


def near_duplicate_share(samples, real, percentile: float = 1.0) -> dict[str, float]:
    """The share of samples that have a near copy among the other samples.

    A sample counts when its nearest *other* sample (RMS pixel distance) is closer than
    the ``percentile``-th percentile of the same distance among as many real images: real
    faces have such a close twin ``percentile`` % of the time, so a generator that repeats
    faces scores far above it. Exact duplicates among the real images are left out of that
    percentile (:func:`gan_helpers.core.distances.twin_threshold`). Works on any dataset.

    Args:
        samples, real: (N, H, W, C) uint8 or float in [-1, 1], the same N ideally.

    Returns:
        ``share`` (of samples), ``threshold`` and the real images' own ``real_share``
        (about ``percentile`` / 100 by construction).
    """
    _, real_nn = nearest_neighbours(real, real, exclude_self=True)
    _, fake_nn = nearest_neighbours(samples, samples, exclude_self=True)
    threshold = twin_threshold(real_nn, percentile)
    return {"share": round(float(np.mean(fake_nn < threshold)), 4),
            "threshold": round(threshold, 4),
            "real_share": round(float(np.mean(real_nn < threshold)), 4)}


def attribute_report(classifier: AttributeClassifier, real, fake, reference_labels=None,
                     real_features=None) -> dict:
    """Every attribute-network score of ``fake`` against ``real`` images.

    Args:
        classifier: from :func:`load_attribute_classifier`.
        real, fake: (N, H, W, 3) uint8 or float in [-1, 1], ideally the same N.
        reference_labels: ``classifier.predict`` of a larger real set, whose attribute
            histogram stands for the data's (default: ``real``'s); coverage compares
            the samples with it.
        real_features: ``classifier.features(real)``, when the caller scores several sets
            against the same real images and has them already.

    Returns:
        ``fd`` (Fréchet distance of the features, FID's formula:
        :func:`gan_helpers.evaluation.metrics.frechet_distance`), ``precision``, ``recall``,
        ``coverage`` and ``certainty`` (:func:`attribute_certainty`), per attribute and
        mean, and the classifier's held-out accuracy.
    """
    if real_features is None:
        real_features = classifier.features(real)
    fake_features = classifier.features(fake)
    if reference_labels is None:
        reference_labels = classifier.predict(real)
    fake_probabilities = classifier.probabilities(fake)
    return {
        "fd": round(frechet_distance(real_features, fake_features), 3),
        **precision_recall(real_features, fake_features),
        "coverage": attribute_coverage(reference_labels, most_likely(fake_probabilities)),
        "certainty": attribute_certainty(fake_probabilities),
        "classifier_accuracy": classifier.accuracy,
    }
