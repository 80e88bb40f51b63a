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
hardware found (see :func:`gan_helpers.hardware.best_precision`)."""


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
    from ._tf import keras

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


CODE_SIZE = 10  # categories per one-hot code of z (GANConfig.g_codes, models.LatentCodes)
G_UPSAMPLING = ("transpose", "nearest")


@dataclasses.dataclass
class GANConfig:
    """Every knob of a run: model shape, optimisers, labels and noise.

    Attributes:
        image_size: side of the square images, one of 32, 64, 128.
        latent_dim: length of the noise vector z.
        batch_size: images per step for each of D's real and fake halves and for G.
        lr_d, lr_g: Adam learning rates of the discriminator and the generator.
        beta_1: Adam's first-moment decay (0.5 in DCGAN, 0 in the default ``cartoon``: no momentum).
        real_label_range: D's target for real images is drawn U(lo, hi) every batch.
        fake_label_range: D's target for fakes is drawn U(lo, hi) every batch.
        label_flip_prob: chance that a D target is swapped between real and fake.
        instance_noise_std: std of Gaussian noise added to every image D sees, real and
            fake alike (instance noise).
        d_batch_norm: BatchNorm in D (off: frozen in G's step, BatchNorm would run on its
            moving statistics there, unlike in D's own step).
        d_dropout: dropout rate after each of D's convolutions.
        minibatch_std: group size of D's minibatch standard-deviation feature (0: off).
        pack: how many images D scores at once (PacGAN, Lin et al. 2018): each group of
            this many real or fake images is one input with that many times the channels,
            and one label (1: one image per score, as in DCGAN).
        d_augment: DiffAugment policy for everything D sees in training, e.g.
            ``"color,translation,cutout"`` (``""``: off).
        d_augment_p: the chance that each DiffAugment operation is applied to each image,
            drawn per image (1: always, as in DiffAugment; below 1 as in ADA).
        d_spectral_norm: spectral normalisation of D's convolutions and output layer.
        filters: width of the first D / last G convolution (DCGAN's 64).
        g_filters: width of G's last hidden convolution when G should differ from D
            (0: ``filters``, the same width for both).
        g_upsample: how G doubles its image size: ``"transpose"`` (DCGAN's strided
            transposed convolutions, 4x4) or ``"nearest"`` (nearest-neighbour upsampling
            then a 3x3 convolution, which cannot draw a checkerboard; 2.25x G's
            convolution FLOPs).
        g_top_filters: feature maps of an extra hidden layer in G at the image's full
            size, turned into the image by a 3x3 convolution (0: off, DCGAN's last layer
            draws the image from half the size).
        g_codes: how many groups of 10 numbers at the start of z G reads as one-hot
            choices (the largest number of each group wins): discrete switches for the
            data's discrete parts, found without labels (0: off).
        mode_seeking: weight of a mode-seeking term in G's loss (after Mao et al. 2019):
            the weight over the mean absolute pixel difference between the two halves
            of G's batch, so G pays for drawing pairs of noise vectors alike (0: off).
        spread_matching: weight of a term in G's loss that asks each of D's features (its
            flattened last activations) to vary over G's batch as much as over the real
            batch: the weight times the mean squared gap of the per-feature standard
            deviations, over the real ones' mean variance. It needs the fused step; 0: off.
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
        epochs: passes over the dataset (a run's total, also when resuming).
    """

    image_size: int = 64
    latent_dim: int = 100
    batch_size: int = 64
    lr_d: float = 2e-4
    lr_g: float = 2e-4
    beta_1: float = 0.5
    real_label_range: tuple[float, float] = (0.8, 1.0)
    fake_label_range: tuple[float, float] = (0.0, 0.2)
    label_flip_prob: float = 0.0
    instance_noise_std: float = 0.0
    d_batch_norm: bool = False
    d_dropout: float = 0.0
    minibatch_std: int = 0
    pack: int = 1
    d_augment: str = ""
    d_augment_p: float = 1.0
    d_spectral_norm: bool = False
    filters: int = 64
    g_filters: int = 0
    g_upsample: str = "transpose"
    g_top_filters: int = 0
    g_codes: int = 0
    mode_seeking: float = 0.0
    spread_matching: float = 0.0
    r1_gamma: float = 0.0
    ema: float = 0.0
    precision: str = "float32"
    flip_images: bool = True
    epochs: int = 12

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
        if not isinstance(self.pack, (int, np.integer)) or self.pack < 1:
            raise ValueError(f"pack must be a positive integer (1: off), got {self.pack!r}")
        if self.batch_size % self.pack:
            raise ValueError(f"batch_size ({self.batch_size}) must be a multiple of pack ({self.pack})")
        if self.minibatch_std and (self.batch_size // self.pack) % self.minibatch_std:
            raise ValueError(f"batch_size ({self.batch_size}) must be a multiple of "
                             + (f"pack x minibatch_std ({self.pack} x {self.minibatch_std})"
                                if self.pack > 1 else f"minibatch_std ({self.minibatch_std})"))
        self.d_augment = ",".join(parse_augment(self.d_augment))
        if not 0.0 < self.d_augment_p <= 1.0:
            raise ValueError(f"d_augment_p must be in (0, 1] (d_augment='' turns augmentation off), "
                             f"got {self.d_augment_p!r}")
        if not self.spread_matching >= 0.0:
            raise ValueError(f"spread_matching must be 0 (off) or positive, got {self.spread_matching!r}")
        if not self.r1_gamma >= 0.0:
            raise ValueError(f"r1_gamma must be 0 (off) or positive, got {self.r1_gamma!r}")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must be in [0, 1) (0: off), got {self.ema!r}")
        if not isinstance(self.g_filters, (int, np.integer)) or self.g_filters < 0:
            raise ValueError(f"g_filters must be 0 (the same as filters) or a positive integer, "
                             f"got {self.g_filters!r}")
        if not isinstance(self.g_top_filters, (int, np.integer)) or self.g_top_filters < 0:
            raise ValueError(f"g_top_filters must be 0 (off) or a positive integer, got {self.g_top_filters!r}")
        if not isinstance(self.g_codes, (int, np.integer)) or self.g_codes < 0:
            raise ValueError(f"g_codes must be 0 (off) or a positive integer, got {self.g_codes!r}")
        if self.g_codes and self.g_codes * CODE_SIZE > self.latent_dim:
            raise ValueError(f"g_codes ({self.g_codes}) x {CODE_SIZE} must not exceed latent_dim "
                             f"({self.latent_dim})")
        if self.g_upsample not in G_UPSAMPLING:
            raise ValueError(f"g_upsample must be one of {', '.join(G_UPSAMPLING)}, "
                             f"got {self.g_upsample!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        for name in ("latent_dim", "batch_size", "filters", "epochs"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
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
        if not self.mode_seeking >= 0:
            raise ValueError(f"mode_seeking must be >= 0 (0: off), got {self.mode_seeking!r}")

    @property
    def generator_filters(self) -> int:
        """The width G is built with: ``g_filters``, or ``filters`` when that is 0."""
        return self.g_filters or self.filters

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "GANConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown GANConfig fields: {', '.join(unknown)}")
        return cls(**values)


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
FIXED_ON_RESUME = ("image_size", "latent_dim", "filters", "g_filters", "g_upsample", "g_top_filters",
                   "g_codes", "d_batch_norm",
                   "minibatch_std", "pack", "d_augment", "d_spectral_norm", "batch_size", "mode_seeking",
                   "spread_matching", "r1_gamma")

# How ``train --help`` groups the fields (every field is in exactly one group).
CONFIG_GROUPS: dict[str, tuple[str, ...]] = {
    "fixed for a run (a different value is refused on --resume)": FIXED_ON_RESUME,
    "optimisers and precision (may change on --resume)": ("lr_d", "lr_g", "beta_1", "epochs",
                                                          "precision"),
    "labels and noise (may change on --resume)": ("real_label_range", "fake_label_range", "label_flip_prob",
                         "instance_noise_std", "flip_images"),
    "regularisers and sampling (may change on --resume)": ("d_dropout", "d_augment_p", "ema"),
}


PRESETS: dict[str, dict[str, Any]] = {
    # The default, chosen by measurement at a fixed compute budget (docs/results.md): a
    # DCGAN half as wide (filters 32: a quarter of the FLOPs per image) that trains on 3.8x
    # as many images (46 epochs, 14,352 steps of 32) for no more compute than
    # cartoon-v1, both learning rates 4e-4, DiffAugment with random shifts only, and Adam
    # without momentum (beta_1 0, as BigGAN and StyleGAN2 train): at the full budget it
    # beat cartoon-v5 (the same recipe with DCGAN's beta_1 0.5) on both seeds in SWD and
    # attribute coverage on the same CPU (a margin small against the noise of one run's last
    # checkpoint; docs/results.md). Colour jitter (cartoon-v3) lost on every mean of
    # four GPU seeds and on both CPU seeds at a quarter and at the full budget.
    # Minibatch-std and one-sided label smoothing guard against mode collapse. An EMA of G
    # (0.999) measured worse than G itself at the end of this budget, so it is off. Batches
    # of 32 (twice the steps of cartoon-v4's 64 for the same images and FLOPs, ~10 % more
    # time on a CPU) won on both seeds in every score at a quarter of the budget, and at the
    # full budget on SWD and feature distance (attribute coverage the same on the mean).
    "cartoon": dict(image_size=64, lr_d=4e-4, lr_g=4e-4, beta_1=0.0, batch_size=32,
                    real_label_range=(0.8, 1.0), fake_label_range=(0.0, 0.0), minibatch_std=4,
                    d_augment="translation", filters=32, epochs=46),
    # The previous default (2026-11-26 to 12-06): cartoon with Adam's beta_1 0.5.
    "cartoon-v5": dict(image_size=64, lr_d=4e-4, lr_g=4e-4, beta_1=0.5, batch_size=32,
                       real_label_range=(0.8, 1.0), fake_label_range=(0.0, 0.0), minibatch_std=4,
                       d_augment="translation", filters=32, epochs=46),
    # The default of 2026-11-26 (a day): cartoon-v5 with batches of 64.
    "cartoon-v4": dict(image_size=64, lr_d=4e-4, lr_g=4e-4, beta_1=0.5, batch_size=64,
                       real_label_range=(0.8, 1.0), fake_label_range=(0.0, 0.0), minibatch_std=4,
                       d_augment="translation", filters=32, epochs=46),
    # The default of 2026-11-25 to 11-26: cartoon-v4 with colour jitter in DiffAugment.
    "cartoon-v3": dict(image_size=64, lr_d=4e-4, lr_g=4e-4, beta_1=0.5, batch_size=64,
                       real_label_range=(0.8, 1.0), fake_label_range=(0.0, 0.0), minibatch_std=4,
                       d_augment="color,translation", filters=32, epochs=46),
    # The default of 2026-11-24 to 11-25: cartoon-v3 with learning rates 2e-4.
    "cartoon-v2": dict(image_size=64, lr_d=2e-4, lr_g=2e-4, beta_1=0.5, batch_size=64,
                       real_label_range=(0.8, 1.0), fake_label_range=(0.0, 0.0), minibatch_std=4,
                       d_augment="color,translation", filters=32, epochs=46),
    # The default until 2026-11-24: full DCGAN width, 12 epochs (1,872 iterations,
    # ~300 TFLOP), DiffAugment with cutout, no EMA. Kept to compare against.
    "cartoon-v1": dict(image_size=64, lr_d=2e-4, lr_g=2e-4, beta_1=0.5, batch_size=64,
                       real_label_range=(0.8, 1.0), fake_label_range=(0.0, 0.0), minibatch_std=4,
                       d_augment="color,translation,cutout"),
    # Radford et al. 2015 with the noisy labels of the seeds.
    "dcgan": dict(image_size=64, lr_d=2e-4, lr_g=2e-4, beta_1=0.5, batch_size=64),
    # mlwhiz's anime DCGAN in Keras: slower G, noisy labels real U(0.8, 1), fake U(0, 0.2).
    "mlwhiz": dict(
        image_size=64, lr_d=2e-4, lr_g=1.5e-4, beta_1=0.5, batch_size=64,
        real_label_range=(0.8, 1.0), fake_label_range=(0.0, 0.2),
    ),
    # Surma's Simpsons DCGAN: 128 px, D learns 10x slower than G, one-sided label
    # smoothing (real 0.9, fake 0) and Gaussian noise on D's inputs (Surma's on the real
    # ones; here on every image D sees, real and fake alike). Surma's D had
    # BatchNorm; under Keras 3 a frozen BatchNorm changes D in G's step, so it is off.
    "surma": dict(
        image_size=128, lr_d=4e-5, lr_g=4e-4, beta_1=0.5, batch_size=64,
        real_label_range=(0.9, 0.9), fake_label_range=(0.0, 0.0), instance_noise_std=0.1,
    ),
}
DEFAULT_PRESET = "cartoon"
# What `compare` trains unless told otherwise: the seed recipes, the previous default, the default.
COMPARE_PRESETS = ("mlwhiz", "dcgan", "cartoon-v5", DEFAULT_PRESET)


def make_config(preset: str = DEFAULT_PRESET, **overrides) -> GANConfig:
    """Build a :class:`GANConfig` from a named preset plus overrides.

    ``None`` overrides are ignored, so command-line defaults can pass straight through.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(sorted(PRESETS))}")
    values = dict(PRESETS[preset])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return GANConfig.from_dict(values)
