"""Presets, quick mode and the seed helpers (:func:`set_seed`, :func:`rng_stream`).

Quick mode is read here and nowhere else: set ``GAN_QUICK=1`` in the environment and
every long step (dataset size, epochs, iterations) shrinks through :func:`quick_value`,
while the code path stays the same.
"""
from __future__ import annotations

import dataclasses
import inspect
import os
import random
from pathlib import Path
from typing import Any

import numpy as np

QUICK = os.environ.get("GAN_QUICK", "0").strip().lower() in {"1", "true", "yes", "on"}
"""True when the environment asks for quick mode (``GAN_QUICK=1``)."""

SUPPORTED_IMAGE_SIZES = (32, 64, 128)


AUGMENTATIONS = ("color", "translation", "cutout")

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16", "auto")
"""Compute precisions a run can train in; ``auto`` picks the fastest safe one for the
hardware found (see :func:`gan_helpers.core.hardware.best_precision`)."""


def parse_augment(policy) -> tuple[str, ...]:
    """Turn ``"color,translation,cutout"`` (or a list, or ``""``) into a checked tuple."""
    if policy is None:
        return ()
    parts = policy.split(",") if isinstance(policy, str) else list(policy)
    parts = tuple(p.strip() for p in parts if p.strip())
    unknown = [p for p in parts if p not in AUGMENTATIONS]
    if unknown:
        raise ValueError(f"unknown augmentation {unknown[0]!r}; choose from {', '.join(AUGMENTATIONS)}")
    return parts


def runs_dir() -> Path:
    """The folder that holds the notebooks' runs: ``$GAN_RUNS_DIR``, else ``../runs``.

    The notebooks run in ``notebooks/``, so the default is the repository's git-ignored
    ``runs/``. On Colab their setup cell points ``GAN_RUNS_DIR`` at your Google Drive
    (``notebooks/colab_setup.py``), where a disconnect cannot lose a run, and every
    notebook finds the runs of the others there.
    """
    return Path(os.environ.get("GAN_RUNS_DIR") or "../runs")


def quick_value(full, quick):
    """Return ``quick`` in quick mode (``GAN_QUICK=1``), else ``full``.

    Use it for every knob that makes a step long, so a notebook or test shows the
    full value next to the quick one: ``num_epochs = quick_value(10, 1)``.
    """
    return quick if QUICK else full


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and TensorFlow's global random generators.

    Call it in a notebook's configuration cell and again right before building a
    model. On one CPU, with the same TensorFlow version, a seed fixes the data order,
    the initial weights, the fixed noise and the labels; training steps themselves are
    not guaranteed bit-identical because oneDNN may reorder floating-point sums.
    """
    from .._tf import keras

    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    keras.utils.set_random_seed(int(seed))


RNG_STREAMS = ("training", "fixed_noise", "batches")
"""What a training run draws random numbers for, one independent stream each:
``training`` (labels, instance noise, the generator's noise), ``fixed_noise`` (the
progress grids' noise) and ``batches`` (each epoch's order and flips)."""


def rng_stream(seed: int, purpose: str, *keys: int) -> np.random.Generator:
    """A NumPy generator for one purpose of a seeded run.

    Streams come from ``np.random.SeedSequence(seed)`` with the purpose (and any
    ``keys``, such as the epoch) as its spawn key, so no two purposes or epochs ever
    share a stream, whatever the seed: ``rng_stream(0, "batches", 1)`` is not
    ``rng_stream(0, "training")``, nor ``rng_stream(1, "batches", 0)``.
    """
    if purpose not in RNG_STREAMS:
        raise ValueError(f"unknown random stream {purpose!r}; choose from {', '.join(RNG_STREAMS)}")
    spawn_key = (RNG_STREAMS.index(purpose), *(int(k) for k in keys))
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=spawn_key))


@dataclasses.dataclass
class GANConfig:
    """Every knob of a run: model shape, optimisers, labels and noise.

    ``GANConfig()`` is the default recipe, ``cartoon``; :func:`make_config` builds the
    other presets.

    Attributes:
        image_size: side of the square images, one of 32, 64, 128.
        latent_dim: length of the noise vector z.
        batch_size: images per step for each of D's real and fake halves and for G.
        lr_d, lr_g: Adam learning rates of the discriminator and the generator.
        beta_1: Adam's first-moment decay (0.5 in DCGAN, 0 in the default: no momentum).
        real_label_range: D's target for real images is drawn U(lo, hi) every batch.
        fake_label_range: D's target for fakes is drawn U(lo, hi) every batch.
        label_flip_prob: chance that a D target is swapped between real and fake.
        instance_noise_std: std of Gaussian noise added to the real and fake images of
            D's own step (instance noise; G's step sees its fakes without it).
        d_batch_norm: BatchNorm in D (off: frozen in G's step, BatchNorm would run on its
            moving statistics there, unlike in D's own step).
        d_dropout: dropout rate after each of D's convolutions.
        minibatch_std: group size of D's minibatch standard-deviation feature (0: off).
        d_augment: DiffAugment policy for everything D sees in training, e.g.
            ``"color,translation,cutout"`` (``""``: off).
        d_spectral_norm: spectral normalisation of D's convolutions and output layer.
        filters: width of the first D / last G convolution (DCGAN's 64).
        r1_gamma: weight γ of an R1 penalty on D (Mescheder et al. 2018): γ/2 times the mean
            squared norm of the gradient of D's logit with respect to each real image, added
            to D's loss every 4th iteration with 4x the weight (lazy, as in StyleGAN2). It
            needs the fused step; 0: off.
        ema: decay of an exponential moving average of G's weights used for every sample,
            grid and score (e.g. 0.999; 0: off, samples come from G itself).
        precision: ``"float32"``, ``"mixed_bfloat16"``, ``"mixed_float16"`` (with loss
            scaling) or ``"auto"``. Mixed policies keep the weights and both models'
            output layers in float32; a run's saved configuration records the concrete
            policy ``auto`` chose.
        flip_images: random horizontal flips of the training images.
        images_shown: the run's length in images shown (real images D sees, the way StyleGAN
            counts kimg), whatever the dataset's size: the default recipe was measured at
            460,000, 46 epochs of the 10,000 built-in faces. The epochs are worked out from
            it when the data are loaded. 0: the run's length is ``epochs`` instead.
        epochs: passes over the dataset (a run's total, also when resuming); with
            ``images_shown`` set, the number of passes that shows about that many images.
    """

    image_size: int = 64
    latent_dim: int = 100
    batch_size: int = 32
    lr_d: float = 4e-4
    lr_g: float = 4e-4
    beta_1: float = 0.0
    real_label_range: tuple[float, float] = (0.8, 1.0)
    fake_label_range: tuple[float, float] = (0.0, 0.0)
    label_flip_prob: float = 0.0
    instance_noise_std: float = 0.0
    d_batch_norm: bool = False
    d_dropout: float = 0.0
    minibatch_std: int = 4
    d_augment: str = "translation"
    d_spectral_norm: bool = False
    filters: int = 32
    r1_gamma: float = 0.0
    ema: float = 0.0
    precision: str = "float32"
    flip_images: bool = True
    images_shown: int = 460_000
    epochs: int = 46

    def __post_init__(self):
        self.real_label_range = tuple(float(v) for v in self.real_label_range)
        self.fake_label_range = tuple(float(v) for v in self.fake_label_range)
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first knob that is out of range."""
        if self.image_size not in SUPPORTED_IMAGE_SIZES:
            raise ValueError(
                f"image_size must be one of {SUPPORTED_IMAGE_SIZES}, got {self.image_size}"
            )
        if not isinstance(self.minibatch_std, (int, np.integer)) or self.minibatch_std < 0:
            raise ValueError(f"minibatch_std must be 0 (off) or a group size, got {self.minibatch_std!r}")
        if self.minibatch_std and self.batch_size % self.minibatch_std:
            raise ValueError(f"batch_size ({self.batch_size}) must be a multiple of "
                             f"minibatch_std ({self.minibatch_std})")
        self.d_augment = ",".join(parse_augment(self.d_augment))
        if not self.r1_gamma >= 0.0:
            raise ValueError(f"r1_gamma must be 0 (off) or positive, got {self.r1_gamma!r}")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must be in [0, 1) (0: off), got {self.ema!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        for name in ("latent_dim", "batch_size", "filters", "epochs"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.images_shown, (int, np.integer)) or self.images_shown < 0:
            raise ValueError(f"images_shown must be a positive integer (0: count epochs), "
                             f"got {self.images_shown!r}")
        for name in ("lr_d", "lr_g"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not 0.0 <= self.beta_1 < 1.0:
            raise ValueError(f"beta_1 must be in [0, 1), got {self.beta_1!r}")
        for name in ("real_label_range", "fake_label_range"):
            lo, hi = getattr(self, name)
            if not 0.0 <= lo <= hi <= 1.0:
                raise ValueError(f"{name} must satisfy 0 <= lo <= hi <= 1, got {(lo, hi)}")
        for name in ("label_flip_prob", "d_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)!r}")
        if self.instance_noise_std < 0:
            raise ValueError(f"instance_noise_std must be >= 0, got {self.instance_noise_std!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "GANConfig":
        """Build a config from saved values (a run's ``config.json``).

        A field the package no longer has (:data:`RETIRED_FIELDS`) is dropped when it holds
        the value that turned it off, so older runs keep loading; any other value is refused
        in one line that names the field, since the models it describes cannot be rebuilt.
        """
        values = dict(values)
        for name, neutral in RETIRED_FIELDS.items():
            if name not in values:
                continue
            value = values.pop(name)
            if not _is_neutral(name, value, neutral, values):
                raise ValueError(f"{name}={value!r} was retired from the package (only {neutral!r}, "
                                 f"off, still loads); docs/recipes.md says how it was measured")
        if "epochs" in values and "images_shown" not in values:
            values["images_shown"] = 0  # saved before runs counted images: it counts epochs
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown GANConfig fields: {', '.join(unknown)}")
        return cls(**values)


RETIRED_FIELDS: dict[str, Any] = {
    "pack": 1, "d_augment_p": 1.0, "g_filters": 0, "g_upsample": "transpose",
    "g_top_filters": 0, "g_codes": 0, "mode_seeking": 0.0, "spread_matching": 0.0,
}
"""Fields that earlier versions had, with the value that turned each one off. They were
measured and did not earn their place (docs/results.md lists each with its verdict)."""


def _is_neutral(name: str, value, neutral, values: dict) -> bool:
    if name == "g_filters" and value == values.get("filters"):
        return True  # G as wide as D: what 0 meant
    if isinstance(neutral, str) or isinstance(value, (bool, str)) or value is None:
        return value == neutral
    try:
        return float(value) == float(neutral)
    except (TypeError, ValueError):
        return False


def config_field_help() -> dict[str, str]:
    """Each :class:`GANConfig` field's description, read from the class docstring (one
    source for the docs, ``train --help`` and the notebooks)."""
    # cleandoc: Python 3.13 strips a docstring's common indentation when it compiles it,
    # earlier versions keep it; either way the fields then stand 4 spaces in.
    doc = inspect.cleandoc(GANConfig.__doc__).split("Attributes:", 1)[1]
    helps: dict[str, str] = {}
    names: list[str] = []
    for line in doc.splitlines():
        head, sep, text = line.strip().partition(": ")
        if sep and line.startswith(" " * 4) and not line.startswith(" " * 5) and all(
                name.strip().isidentifier() for name in head.split(",")):
            names = [name.strip() for name in head.split(",")]
            for name in names:
                helps[name] = text.strip()
        elif line.strip() and names:
            for name in names:
                helps[name] += " " + line.strip()
    return helps


# What a resumed run cannot change: the settings that fix the shapes and types of the
# weights (and D's layers), and the batch size (the position inside an epoch is counted in
# batches), and the extra loss terms (they add columns to history.csv). Precision may change:
# weights and optimiser state are float32 under every policy.
FIXED_ON_RESUME = ("image_size", "latent_dim", "filters", "d_batch_norm", "minibatch_std",
                   "d_augment", "d_spectral_norm", "batch_size", "r1_gamma")

# How ``train --help`` groups the fields (every field is in exactly one group).
CONFIG_GROUPS: dict[str, tuple[str, ...]] = {
    "fixed for a run (a different value is refused on --resume)": FIXED_ON_RESUME,
    "length, optimisers and precision (may change on --resume)": (
        "images_shown", "epochs", "lr_d", "lr_g", "beta_1", "precision"),
    "labels and noise (may change on --resume)": ("real_label_range", "fake_label_range", "label_flip_prob",
                         "instance_noise_std", "flip_images"),
    "regularisers and sampling (may change on --resume)": ("d_dropout", "ema"),
}


PRESETS: dict[str, dict[str, Any]] = {
    # Each preset is what it changes from GANConfig's defaults.
    #
    # The default: a DCGAN half as wide as Radford's (filters 32) trained on many images
    # (460,000 images shown in batches of 32), both learning rates 4e-4, Adam without momentum
    # (beta_1 0), one-sided label smoothing, minibatch-std and DiffAugment's random shifts.
    # How it was chosen, and what each alternative scored: docs/results.md.
    "cartoon": dict(),
    # The previous default: cartoon with DCGAN's Adam beta_1 of 0.5 (notebook 07 compares it).
    "cartoon-v5": dict(beta_1=0.5),
    # Radford et al. 2015 with the noisy labels of the seeds.
    "dcgan": dict(lr_d=2e-4, lr_g=2e-4, beta_1=0.5, batch_size=64, fake_label_range=(0.0, 0.2),
                  minibatch_std=0, d_augment="", filters=64, images_shown=120_000,
                  epochs=12),
    # mlwhiz's anime DCGAN in Keras: slower G, noisy labels real U(0.8, 1), fake U(0, 0.2).
    "mlwhiz": dict(lr_d=2e-4, lr_g=1.5e-4, beta_1=0.5, batch_size=64, fake_label_range=(0.0, 0.2),
                   minibatch_std=0, d_augment="", filters=64, images_shown=120_000,
                   epochs=12),
    # Surma's Simpsons DCGAN: 128 px, D learns 10x slower than G, one-sided label
    # smoothing (real 0.9, fake 0) and Gaussian noise on D's inputs (Surma's on the real
    # ones; here on the real and fake images of D's step). Surma's D had BatchNorm; under
    # Keras 3 a frozen BatchNorm changes D in G's step, so it is off.
    "surma": dict(image_size=128, lr_d=4e-5, beta_1=0.5, batch_size=64,
                  real_label_range=(0.9, 0.9), instance_noise_std=0.1, minibatch_std=0,
                  d_augment="", filters=64, images_shown=120_000, epochs=12),
}
DEFAULT_PRESET = "cartoon"
# What `compare` trains unless told otherwise: the seed recipes, the previous default, the default.
COMPARE_PRESETS = ("mlwhiz", "dcgan", "cartoon-v5", DEFAULT_PRESET)


def make_config(preset: str = DEFAULT_PRESET, **overrides) -> GANConfig:
    """Build a :class:`GANConfig` from a named preset plus overrides.

    ``None`` overrides are ignored, so command-line defaults can pass straight through.
    A run's length is given one way: ``epochs=N`` makes it N epochs (``images_shown`` 0),
    ``images_shown=N`` that many images shown; both at once is refused.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(sorted(PRESETS))}")
    return GANConfig.from_dict(with_length(PRESETS[preset], overrides))


def with_length(values: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``values`` updated by the ``overrides`` that are not None, where an ``epochs``
    given alone turns the image count off (the run counts epochs instead).

    Raises:
        ValueError: both ``epochs`` and a non-zero ``images_shown`` are given.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    if "epochs" in given and given.get("images_shown"):
        raise ValueError(f"give a run's length as epochs or as images_shown, not both "
                         f"(epochs={given['epochs']}, images_shown={given['images_shown']})")
    values = {**values, **given}
    if "epochs" in given:
        values["images_shown"] = 0
    return values
