"""A conditional GAN (Mirza & Osindero 2014): ask for a hair colour and a skin tone, get them.

An unconditional generator maps noise z to a face, and nothing in z says *which* face: there
is no handle to ask for one. A conditional GAN gives G the attributes with z, and D the same
attributes with the image, so that D judges "a real face *with these attributes*?" and G
learns to draw what it is asked for.

The attributes travel as one-hot vectors (one block per attribute). G's body is the DCGAN
``Sequential`` generator with a longer input, z and the label joined; D's body is the
DCGAN ``Sequential`` discriminator with extra input channels, the label broadcast over the
image. The combined model freezes D exactly as :func:`gan_helpers.build_gan` does, one
iteration is :func:`gan_helpers.train_step` with ``conditions``, and the loop, checkpoints,
resume and progress grids are those of :mod:`gan_helpers.core.training`. The data are built-in
faces rendered with chosen attribute values (the rendering the attribute classifier learned
from), and that classifier reads back whether G obeyed.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from pathlib import Path

import numpy as np

from ._tf import keras
from .evaluation.attributes import attribute_accuracy, attribute_values, render_labelled_faces
from .core.batches import iterate_batches
from .core.config import DEFAULT_PRESET, GANConfig, parse_augment, quick_value
from .core.files import atomic_write
from .core.gan import compile_gan, latent_size, sample_noise, train_step
from .core.models import DiffAugment, build_discriminator, build_generator
from .core.training import (Run, TrainingJob, build_models, open_run, plan_run, run_training,
                            settle_length, start_run)

layers = keras.layers

CONDITIONS: dict[str, dict[str, str]] = {
    # attribute -> {value as the style spells it: the name shown}, in label order. A few
    # values that differ at a glance, even at 32 px.
    "hair_colour": {"0e0e0e": "black", "b9a05f": "blonde", "3eac2c": "green", "dba3be": "pink"},
    "skin": {"f2d3b1": "light", "ecad80": "tan", "9e5622": "brown", "763900": "dark"},
    "glasses": {"none": "no glasses", "variant01": "sunglasses"},
}
DEFAULT_ATTRIBUTES = ("hair_colour", "skin")
LABELLED_FACES = "labelled-cartoon-faces"
LABELLED_SEED = 2000  # disjoint from the classifier's faces (1000) and the built-in set (0)
GRID_COLUMNS = 8  # fixed z per progress-grid row
# A new conditional run trains in batches of 64 unless told otherwise, whatever the preset:
# with the default preset's 32, notebook 08's run (32 px, 16,384 iterations) obeyed its labels
# less than with 64 (hair colour 88.9 % against 91.7 %, both at once 74.6 % against 79.1 %;
# one seed each, 2026-11-26).
CONDITIONAL_BATCH_SIZE = 64


def parse_attributes(attributes) -> tuple[str, ...]:
    """``"hair_colour,skin"`` (or a list) -> a checked tuple of attribute names.

    Raises:
        ValueError: an attribute not in :data:`CONDITIONS`, a repeated one, or none.
    """
    names = attributes.split(",") if isinstance(attributes, str) else list(attributes)
    names = tuple(name.strip() for name in names if name.strip())
    unknown = [name for name in names if name not in CONDITIONS]
    if unknown or not names:
        raise ValueError(f"cannot condition on {unknown[0] if unknown else 'nothing'!r}; "
                         f"choose from {', '.join(CONDITIONS)} (comma-separated)")
    if len(set(names)) != len(names):
        raise ValueError(f"attributes repeat: {','.join(names)}")
    return names


def condition_values(attributes=DEFAULT_ATTRIBUTES) -> dict[str, list[str]]:
    """The values each attribute takes in a conditional run, in label order.

    ``attributes``: names (the values of :data:`CONDITIONS`), or a dict of names and
    values (a run's own, as its ``config.json`` records them).
    """
    if isinstance(attributes, dict):
        parse_attributes(list(attributes))
        return {name: list(values) for name, values in attributes.items()}
    return {name: list(CONDITIONS[name]) for name in parse_attributes(attributes)}


def encode_conditions(labels: dict, values: dict[str, list[str]]) -> np.ndarray:
    """Attribute labels -> what G and D take: one one-hot block per attribute, joined.

    Args:
        labels: int (N,) per attribute, indexing ``values[attribute]``.
        values: from :func:`condition_values`.

    Returns:
        float32 (N, L), L the number of values of all attributes together.
    """
    blocks = [np.eye(len(options), dtype=np.float32)[np.asarray(labels[name])]
              for name, options in values.items()]
    return np.concatenate(blocks, axis=1)


def every_combination(values: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """Labels of every combination of values, the last attribute changing fastest.

    Returns:
        int (K,) per attribute, K the product of the numbers of values.
    """
    rows = np.array(list(itertools.product(*(range(len(v)) for v in values.values()))))
    return {name: rows[:, i] for i, name in enumerate(values)}


def to_attribute_labels(labels: dict, values: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """Labels indexing ``values`` -> labels indexing :func:`attribute_values` (the classifier's)."""
    every = attribute_values()
    return {name: np.array([every[name].index(v) for v in values[name]])[np.asarray(labels[name])]
            for name in values}


def describe_value(name: str, value: str) -> str:
    """How a value reads in a title: ``("hair_colour", "3eac2c")`` -> ``"green hair"``."""
    shown = CONDITIONS[name][value]
    return {"hair_colour": f"{shown} hair", "skin": f"{shown} skin"}.get(name, shown)


# -------------------------------------------------------------------------------- data

def load_labelled_faces(count: int | None = None, image_size: int = 64,
                        attributes=DEFAULT_ATTRIBUTES, cache_dir=None, progress: bool = True):
    """Built-in faces with the attributes drawn uniformly from :data:`CONDITIONS`, cached.

    The other parts (hair style, eyes, mouth …) vary as in
    :func:`gan_helpers.evaluation.attributes.render_labelled_faces`. Rendering takes about 5 ms a
    face on one CPU core, so the result is cached as ``.npz`` in the dataset cache.

    Args:
        count: faces (default 8,192; 256 in quick mode).
        image_size: side in pixels.
        attributes: names, ``"hair_colour,skin"`` or values (see :func:`condition_values`).
        cache_dir: folder for the cache; None uses the dataset cache, False disables it.

    Returns:
        ``(images, labels)``: uint8 (count, S, S, 3) and int (count,) per attribute,
        indexing :func:`condition_values`.
    """
    from .core.data import default_cache_dir

    values = condition_values(attributes)
    count = count or quick_value(8192, 256)
    cache_file = None
    if cache_dir is not False:
        digest = hashlib.sha1(json.dumps(values).encode()).hexdigest()[:8]
        cache_file = (Path(cache_dir) if cache_dir else default_cache_dir()) / (
            f"{LABELLED_FACES}-{'-'.join(values)}-{digest}-seed{LABELLED_SEED}-"
            f"{image_size}px-{count}.npz")
        if cache_file.exists():
            with np.load(cache_file) as archive:
                return archive["images"], {name: archive[name] for name in values}
    images, every = render_labelled_faces(count, image_size, seed=LABELLED_SEED,
                                          progress=progress, choices=values)
    all_values = attribute_values()
    labels = {name: np.array([options.index(all_values[name][i]) for i in every[name]], np.int32)
              for name, options in values.items()}
    if cache_file is not None:  # written under another name, then renamed: never half a file
        with atomic_write(cache_file) as handle:
            np.savez(handle, images=images, **labels)
    return images, labels


# ------------------------------------------------------------------------------ models

def build_conditional_generator(latent_dim: int, label_dim: int, image_size: int = 64,
                                filters: int = 64, name: str = "conditional_generator",
                                **body_options):
    """G(z, label): the DCGAN generator, fed z and the one-hot label side by side.

    Args:
        body_options: ``synchronized_bn`` of :func:`gan_helpers.build_generator`.

    Returns:
        A functional model mapping [float32 (N, latent_dim), float32 (N, label_dim)] to
        float32 (N, S, S, 3) in [-1, 1]; its body is :func:`gan_helpers.build_generator`.
    """
    body = build_generator(latent_dim + label_dim, image_size, filters=filters, **body_options)
    z = keras.Input(shape=(latent_dim,), name="z")
    label = keras.Input(shape=(label_dim,), name="label")
    z_and_label = layers.Concatenate(name="z_and_label")([z, label])  # (N, latent_dim + label_dim)
    return keras.Model([z, label], body(z_and_label), name=name)


def build_conditional_discriminator(image_size: int, label_dim: int, filters: int = 64,
                                    augment: str = "", seed: int | None = None,
                                    name: str = "conditional_discriminator", **body_options):
    """D(image, label): the DCGAN discriminator, fed the image with the label as extra channels.

    Args:
        augment: a DiffAugment policy for the image (before the label joins it, so the
            label is never shifted or cut); ``"color"`` is refused, as it changes the
            very colours D must judge.
        body_options: ``batch_norm``, ``dropout``, ``minibatch_std``, ``spectral_norm``
            of :func:`gan_helpers.build_discriminator`.

    Returns:
        A functional model mapping [float32 (N, S, S, 3) in [-1, 1], float32 (N, label_dim)]
        to float32 (N, 1) in (0, 1).
    """
    policy = parse_augment(augment)
    _refuse_colour(policy)
    body = build_discriminator(image_size, channels=3 + label_dim, filters=filters, **body_options)
    image = keras.Input(shape=(image_size, image_size, 3), name="image")
    label = keras.Input(shape=(label_dim,), name="label")
    seen = DiffAugment(policy, seed=seed)(image) if policy else image
    maps = layers.Reshape((1, 1, label_dim))(label)
    maps = layers.UpSampling2D(size=image_size, name="label_maps")(maps)  # (N, S, S, label_dim)
    image_and_label = layers.Concatenate(name="image_and_label")([seen, maps])
    return keras.Model([image, label], body(image_and_label), name=name)


def build_conditional_gan(generator, discriminator, config: GANConfig | None = None):
    """The combined model for G's step: (z, label) -> D(G(z, label), label), D frozen.

    D sees G's image together with the label G was asked for, so G is rewarded only for
    faces that pass as real faces *with that label*. Compiled like
    :func:`gan_helpers.build_gan` (D for its own step too, if it is not compiled yet).
    """
    config = config or GANConfig()
    g_shape, d_shape = generator.outputs[0].shape[1:], discriminator.inputs[0].shape[1:]
    if tuple(g_shape) != tuple(d_shape):
        raise ValueError(f"generator makes images of shape {tuple(g_shape)} but the "
                         f"discriminator expects {tuple(d_shape)}")
    z = keras.Input(shape=(latent_size(generator),), name="z")
    label = keras.Input(shape=generator.inputs[1].shape[1:], name="label")
    score = discriminator([generator([z, label]), label])
    gan = keras.Model([z, label], score, name="conditional_gan")
    return compile_gan(gan, discriminator, lr_d=config.lr_d, lr_g=config.lr_g,
                       beta_1=config.beta_1)


UNSUPPORTED: dict[str, str] = {
    "ema": "no average of a conditional G is kept",
    "r1_gamma": "it needs the fused step, and a conditional run trains with the classic one",
}
"""The :class:`GANConfig` fields the conditional models and their classic step do not
implement, and why: each must keep its neutral value (:class:`GANConfig`'s default). Every
other field means what it means for :func:`gan_helpers.core.training.build_models`, through
the same mapping (:func:`gan_helpers.core.training.model_options`); ``d_augment`` may not hold
``"color"``."""


def _unsupported(name: str, value, neutral) -> str:
    return (f"{name} is not supported for conditional runs ({name}={value!r}: "
            f"{UNSUPPORTED[name]}); set {name}={neutral!r}")


def _refuse_colour(policy) -> None:
    if "color" in parse_augment(policy):
        raise ValueError(f"d_augment={','.join(parse_augment(policy))!r}: 'color' changes the hair "
                         f"and skin colours a conditional D must judge; use 'translation' "
                         f"and/or 'cutout'")


def refuse_unsupported(config: GANConfig) -> None:
    """Raise ValueError, in one line naming the field and its value, for the first field of
    :data:`UNSUPPORTED` that ``config`` sets, or colour in its ``d_augment``."""
    neutral = GANConfig()
    for name in UNSUPPORTED:
        value = getattr(config, name)
        if value != getattr(neutral, name):
            raise ValueError(_unsupported(name, value, getattr(neutral, name)))
    _refuse_colour(config.d_augment)


def build_conditional_models(config: GANConfig, label_dim: int, seed: int = 0):
    """Seed, then build the conditional G, D and combined model for ``config``:
    :func:`gan_helpers.core.training.build_models` with ``label_dim``.

    Raises:
        ValueError: a field of :data:`UNSUPPORTED` that is not neutral, or colour in
            ``d_augment``.
    """
    return build_models(config, seed, label_dim=label_dim)


# --------------------------------------------------------------------------------- runs

@dataclasses.dataclass
class ConditionalRun(Run):
    """A conditional run: a :class:`gan_helpers.Run` whose faces are drawn to order.

    ``values`` holds the attributes and their values, in label order; ``fixed_noise`` has
    one z per progress-grid column.
    """

    values: dict = dataclasses.field(default_factory=dict)

    def labels_for(self, count: int = 1, **chosen) -> dict[str, np.ndarray]:
        """Labels asking ``count`` faces for the chosen values, e.g. ``hair_colour="green"``
        (a name, the style's value or its index); an attribute not chosen is drawn at random."""
        rng = np.random.default_rng()
        labels = {}
        for name, options in self.values.items():
            value = chosen.pop(name, None)
            names = [CONDITIONS[name][v] for v in options]
            if value is None:
                labels[name] = rng.integers(0, len(options), count)
            elif value in names or value in options:
                labels[name] = np.full(count, (names if value in names else options).index(value))
            elif isinstance(value, (int, np.integer)) and 0 <= value < len(options):
                labels[name] = np.full(count, value)
            else:
                raise ValueError(f"{name} must be one of {', '.join(names)}, got {value!r}")
        if chosen:
            raise ValueError(f"this run is conditioned on {', '.join(self.values)}, "
                             f"not {', '.join(chosen)}")
        return labels

    def sample(self, noise=None, count: int = 16, labels=None) -> np.ndarray:
        """Faces for ``labels`` (int (N,) per attribute; default: random ones), float32
        (N, S, S, 3) in [-1, 1], in inference mode."""
        if noise is None:
            noise = sample_noise(np.random.default_rng(), count, self.config.latent_dim)
        labels = labels if labels is not None else self.labels_for(len(noise))
        conditions = encode_conditions(labels, self.values)
        return np.asarray(self.sampler([noise, conditions], training=False))

    def condition_grid(self, noise=None) -> np.ndarray:
        """One row per combination of values (:meth:`row_titles`), one column per z.

        Returns:
            float32 (rows * columns, S, S, 3) in [-1, 1], row by row.
        """
        noise = self.fixed_noise if noise is None else noise
        rows = every_combination(self.values)
        labels = {name: np.repeat(index, len(noise)) for name, index in rows.items()}
        return self.sample(np.tile(noise, (_count(rows), 1)), labels=labels)

    def row_titles(self) -> list[str]:
        """What each row of :meth:`condition_grid` asked for, e.g. ``"black hair, dark skin"``."""
        rows = every_combination(self.values)
        return [", ".join(describe_value(name, self.values[name][rows[name][i]]) for name in rows)
                for i in range(_count(rows))]

    def progress_images(self) -> tuple[np.ndarray, int]:
        return self.condition_grid(), len(self.fixed_noise)


def _count(labels: dict) -> int:
    return len(next(iter(labels.values())))


def train_conditional(attributes=None, preset: str = DEFAULT_PRESET, *,
                      config: GANConfig | None = None, image_size: int | None = None,
                      epochs: int | None = None, batch_size: int | None = None, run_dir=None,
                      resume: bool | str = False, seed: int = 0, num_images: int | None = None,
                      checkpoint_minutes: float | None = None, progress: bool = True,
                      on_epoch_end=None, monitor=None, **overrides) -> ConditionalRun:
    """Train a conditional DCGAN on labelled built-in faces, like :func:`gan_helpers.train`.

    The run folder holds what an unconditional run's does; its progress grids have one
    row per combination of attribute values and one column per fixed z, and
    ``config.json`` records the attributes under ``"conditions"``. Every iteration is the
    classic :func:`gan_helpers.train_step`, given the one-hot attributes of the batch.

    Args:
        attributes: names or ``"hair_colour,skin"`` (default: those two; when resuming,
            the run's own, and others are refused).
        preset, config, image_size, epochs, batch_size, run_dir, resume, seed, num_images,
            checkpoint_minutes, progress, on_epoch_end, monitor, **overrides: as for
            :func:`gan_helpers.train`. ``d_augment`` defaults to the preset's policy
            without ``"color"``; ``batch_size`` to :data:`CONDITIONAL_BATCH_SIZE` (64);
            ``num_images`` to 8,192 (256 in quick mode).

    Returns:
        The :class:`ConditionalRun`.
    """
    given = dict(image_size=image_size, epochs=epochs, batch_size=batch_size, **overrides)
    plan = plan_run(LABELLED_FACES, preset, config, run_dir, resume, seed, num_images, 1,
                    given, conditional=True)
    if plan.folder is None:
        values = condition_values(attributes or DEFAULT_ATTRIBUTES)
        if overrides.get("d_augment") is None and config is None:  # colour would blur the labels
            plan.config.d_augment = ",".join(p for p in parse_augment(plan.config.d_augment)
                                             if p != "color")
        if batch_size is None and config is None:
            plan.config.batch_size = CONDITIONAL_BATCH_SIZE
            plan.config.validate()
    else:  # plan_run opened the folder (config.json read once) and checked its kind
        values = plan.folder.conditions
        if attributes is not None and tuple(values) != parse_attributes(attributes):
            raise ValueError(f"cannot resume: the run is conditioned on {','.join(values)}, not "
                             f"{','.join(parse_attributes(attributes))}; start a new run folder")
    refuse_unsupported(plan.config)  # before the faces are rendered

    def prepare() -> TrainingJob:
        cfg = plan.config
        images, labels = load_labelled_faces(plan.num_images, cfg.image_size, values,
                                             progress=progress)
        if len(images) < cfg.batch_size:
            raise ValueError(f"{len(images)} faces are fewer than one batch ({cfg.batch_size})")
        settle_length(plan, len(images))
        onehot = encode_conditions(labels, values)
        run, rng, position = start_run(plan, data=LABELLED_FACES, num_images=len(images),
                                       conditions=values)

        def batches(epoch, skip_batches):
            for real, index in iterate_batches(images, cfg.batch_size, flip=cfg.flip_images,
                                               seed=plan.seed, epoch=epoch,
                                               skip_batches=skip_batches, with_indices=True):
                yield real, onehot[index]

        def one_step(batch):
            real, conditions = batch
            return train_step(run.generator, run.discriminator, run.gan, real, rng=rng,
                              config=cfg, conditions=conditions)

        return TrainingJob(run, images, rng, position, one_step, batches,
                           what=f"conditional DCGAN ({', '.join(values)})",
                           meta={"conditions": values})

    return run_training(plan, prepare, monitor=monitor, progress=progress,
                        checkpoint_minutes=checkpoint_minutes, on_epoch_end=on_epoch_end)


def load_conditional_run(run_dir) -> ConditionalRun:
    """Rebuild a conditional run's models from its last checkpoint (to sample or measure):
    :func:`gan_helpers.core.training.open_run` with ``conditional=True``."""
    return open_run(run_dir, conditional=True)


# ---------------------------------------------------------------------------- obedience

def score_obedience(classifier, images, labels: dict, values: dict[str, list[str]]) -> dict:
    """How often the attribute classifier reads back the values that were asked for.

    Args:
        classifier: from :func:`gan_helpers.evaluation.attributes.load_attribute_classifier`.
        images: (N, H, W, 3) uint8 or float in [-1, 1].
        labels: int (N,) per attribute, indexing ``values`` (what was asked for).

    Returns:
        ``{attribute: accuracy}`` and ``"all"`` (every attribute right), each in [0, 1],
        plus ``"chance"``: per attribute, what a generator that ignored the label would
        score (1 / the number of values).
    """
    result = attribute_accuracy(classifier, images, to_attribute_labels(labels, values))
    result["chance"] = {name: round(1 / len(options), 4) for name, options in values.items()}
    return result


def measure_obedience(run: ConditionalRun, classifier, per_combination: int | None = None,
                      seed: int = 0) -> dict:
    """Ask ``run`` for every combination of values, each with new z, and score the faces.

    Args:
        per_combination: faces per combination (default 64; 8 in quick mode).
        seed: fixes the noise.

    Returns:
        :func:`score_obedience`'s dict, with ``"count"``, the faces drawn.
    """
    per_combination = per_combination or quick_value(64, 8)
    rows = every_combination(run.values)
    labels = {name: np.repeat(index, per_combination) for name, index in rows.items()}
    count = _count(labels)
    noise = sample_noise(np.random.default_rng(seed), count, run.config.latent_dim)
    images = run.sample(noise, labels=labels)
    return {**score_obedience(classifier, images, labels, run.values), "count": count}
