"""The combined GAN with a frozen discriminator, noisy labels, and one training iteration.

Keras 3 changed three things that the classic ``train_on_batch`` recipe relied on; each
was measured to break training (TF 2.21, Keras 3.15):

1. ``trainable`` is read when a model's train function is first traced, not at
   ``compile()``. :func:`train_step` therefore sets ``discriminator.trainable`` right
   before each of the two steps, every iteration, so whichever step is traced first
   (or retraced after a batch-size change) sees the right variables.
2. The fakes for the discriminator's step come from the generator in training mode
   (batch statistics), as in the generator's own step, not from ``predict()``.
3. A frozen ``BatchNormalization`` runs on its moving statistics, so the default
   discriminator has no BatchNorm (see :func:`gan_helpers.build_discriminator`).
"""
from __future__ import annotations

import weakref

import numpy as np

from ._tf import keras, tf
from .config import GANConfig

_TRAIN_MODE_CALLS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def generate_training_mode(generator, z):
    """G(z) with BatchNorm on batch statistics, as the generator sees itself in its own step.

    Compiled once per generator with ``tf.function`` (about 25 % faster than eager).
    """
    call = _TRAIN_MODE_CALLS.get(generator)
    if call is None:
        call = tf.function(lambda noise: generator(noise, training=True))
        _TRAIN_MODE_CALLS[generator] = call
    return call(z)


def mean_score(y_true, y_pred):
    """Keras metric: the discriminator's mean output over the batch (D(x) or D(G(z)))."""
    del y_true
    return keras.ops.mean(y_pred)


def compile_discriminator(discriminator, lr_d: float = 2e-4, beta_1: float = 0.5):
    """Compile D for its own step: Adam, binary cross-entropy, and the mean score."""
    discriminator.trainable = True
    discriminator.compile(
        optimizer=keras.optimizers.Adam(learning_rate=lr_d, beta_1=beta_1),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[mean_score],
    )
    return discriminator


def build_gan(generator, discriminator, lr_d: float = 2e-4, lr_g: float = 2e-4,
              beta_1: float = 0.5, config: GANConfig | None = None) -> keras.Sequential:
    """Stack G and a frozen D into the combined model that trains the generator.

    Compiles the discriminator for its own step too, if it is not compiled yet.

    Args:
        generator, discriminator: models from :func:`build_generator` and
            :func:`build_discriminator` with matching image shapes.
        lr_d, lr_g, beta_1: Adam settings; ``config`` overrides them when given.

    Returns:
        ``keras.Sequential([generator, discriminator])``, compiled with the generator's
        optimiser, mapping z (N, latent_dim) to D(G(z)) (N, 1).
    """
    if config is not None:
        lr_d, lr_g, beta_1 = config.lr_d, config.lr_g, config.beta_1
    g_shape = tuple(generator.output_shape[1:])
    d_shape = tuple(discriminator.input_shape[1:])
    if g_shape != d_shape:
        raise ValueError(
            f"generator makes images of shape {g_shape} but the discriminator expects {d_shape}"
        )
    if not getattr(discriminator, "compiled", False):
        compile_discriminator(discriminator, lr_d=lr_d, beta_1=beta_1)
    discriminator.trainable = False
    gan = keras.Sequential([generator, discriminator], name="gan")
    gan.compile(
        optimizer=keras.optimizers.Adam(learning_rate=lr_g, beta_1=beta_1),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[mean_score],
    )
    return gan


def sample_labels(rng: np.random.Generator, batch_size: int,
                  real_range=(0.8, 1.0), fake_range=(0.0, 0.2), flip_prob: float = 0.0):
    """Draw noisy targets for one discriminator step.

    Args:
        rng: NumPy generator (its state is saved with checkpoints).
        batch_size: labels per half.
        real_range, fake_range: (lo, hi) of the uniform draws.
        flip_prob: chance that each target is swapped with one from the other range.

    Returns:
        (real_labels, fake_labels), float32 arrays of shape (batch_size, 1).
    """
    real = rng.uniform(real_range[0], real_range[1], size=(batch_size, 1))
    fake = rng.uniform(fake_range[0], fake_range[1], size=(batch_size, 1))
    if flip_prob > 0:
        flip = rng.random((batch_size, 1)) < flip_prob
        real, fake = np.where(flip, fake, real), np.where(flip, real, fake)
    return real.astype(np.float32), fake.astype(np.float32)


def sample_noise(rng: np.random.Generator, count: int, latent_dim: int) -> np.ndarray:
    """Standard normal latent vectors, float32 (count, latent_dim)."""
    return rng.standard_normal((count, latent_dim)).astype(np.float32)


def train_discriminator(generator, discriminator, real_images, *, rng: np.random.Generator,
                        config: GANConfig | None = None) -> dict[str, float]:
    """The discriminator's half of an iteration: one update on real, one on fake images.

    Args:
        generator, discriminator: D must be compiled (:func:`build_gan` does it).
        real_images: float32 (N, S, S, C) in [-1, 1].
        rng: NumPy generator for noise, labels and instance noise.
        config: labels, flips and instance noise (defaults: :class:`GANConfig`).

    Returns:
        ``d_loss`` (mean of the two), ``d_loss_real``, ``d_loss_fake``, ``d_real``
        (mean D(x)) and ``d_fake`` (mean D(G(z))), measured before each update.
    """
    config = config or GANConfig()
    batch = int(real_images.shape[0])
    latent_dim = int(generator.input_shape[-1])

    # Fakes made in training mode, as the generator sees itself in its own step (trap 2).
    fake_images = generate_training_mode(generator, sample_noise(rng, batch, latent_dim))
    real_labels, fake_labels = sample_labels(
        rng, batch, config.real_label_range, config.fake_label_range, config.label_flip_prob)
    if config.instance_noise_std > 0:
        noise = rng.normal(0.0, config.instance_noise_std, size=tuple(real_images.shape))
        real_images = real_images + tf.constant(noise, dtype=real_images.dtype)

    discriminator.trainable = True  # trap 1: set before every step, not once at compile
    real_logs = discriminator.train_on_batch(real_images, real_labels, return_dict=True)
    fake_logs = discriminator.train_on_batch(fake_images, fake_labels, return_dict=True)
    return {
        "d_loss": 0.5 * (float(real_logs["loss"]) + float(fake_logs["loss"])),
        "d_loss_real": float(real_logs["loss"]),
        "d_loss_fake": float(fake_logs["loss"]),
        "d_real": float(real_logs["mean_score"]),
        "d_fake": float(fake_logs["mean_score"]),
    }


def train_generator(generator, discriminator, gan, batch_size: int, *,
                    rng: np.random.Generator) -> dict[str, float]:
    """The generator's half: one update of G through ``gan`` with D frozen.

    The targets are 1 ("real"): G is rewarded when the frozen D is fooled.

    Returns:
        ``g_loss`` and ``g_d_fake`` (mean D(G(z)) seen by G's step, before its update).
    """
    latent_dim = int(generator.input_shape[-1])
    discriminator.trainable = False  # trap 1 again: frozen right before G's step
    z = sample_noise(rng, batch_size, latent_dim)
    logs = gan.train_on_batch(z, np.ones((batch_size, 1), np.float32), return_dict=True)
    return {"g_loss": float(logs["loss"]), "g_d_fake": float(logs["mean_score"])}


def train_step(generator, discriminator, gan, real_images, *, rng: np.random.Generator,
               config: GANConfig | None = None) -> dict[str, float]:
    """Run one classic GAN iteration: D on real then on fake, then G through ``gan``.

    Args:
        generator, discriminator, gan: from :func:`build_gan`.
        real_images: float32 (N, S, S, C) in [-1, 1].
        rng: NumPy generator for noise, labels and instance noise.
        config: labels, flips and instance noise (defaults: :class:`GANConfig`).

    Returns:
        ``d_loss``, ``d_loss_real``, ``d_loss_fake``, ``g_loss``, ``d_real`` (mean D(x))
        and ``d_fake`` (mean D(G(z))), as floats.
    """
    logs = train_discriminator(generator, discriminator, real_images, rng=rng, config=config)
    g_logs = train_generator(generator, discriminator, gan, int(real_images.shape[0]), rng=rng)
    return {**logs, "g_loss": g_logs["g_loss"]}
