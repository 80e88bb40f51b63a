"""The combined GAN with a frozen discriminator, noisy labels, and one training iteration.

Three traps wait for the classic ``train_on_batch`` recipe under Keras 3; each was
measured to break training (TF 2.21, Keras 3.15). Only the first is new in Keras 3:

1. (New in Keras 3.) ``trainable`` is read when a model's train function is first
   traced, not at ``compile()`` as in tf.keras 2. :func:`train_step` therefore sets
   ``discriminator.trainable`` right before each of the two steps, every iteration, so
   whichever step is traced first (or retraced after a batch-size change) sees the
   right variables.
2. (Always so in Keras.) ``predict()`` and ``training=False`` use BatchNorm's moving
   averages, so fakes drawn that way are not the images G makes in its own step. The
   fakes for the discriminator's step come from the generator in training mode.
3. (tf.keras since TF 2.0.) A frozen ``BatchNormalization`` runs on its moving
   statistics, so a D with BatchNorm changes between its own step and G's. The default
   discriminator has no BatchNorm (see :func:`gan_helpers.build_discriminator`).

Before Keras 3.15, ``train_on_batch`` returned the metrics averaged since the last reset,
not the batch's own; :func:`batch_logs` resets them first, so the logs are per batch on
every supported Keras.
"""
from __future__ import annotations

import weakref

import numpy as np

from .._tf import keras, quiet_first_run, tf
from .config import GANConfig

_TRAIN_MODE_CALLS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def generate_training_mode(generator, z):
    """G(z) with BatchNorm on batch statistics, as the generator sees itself in its own step.

    Compiled once per generator (``tf.function``: about 25 % faster than eager; under the
    JAX backend ``jax.jit``). Like an eager call, it updates BatchNorm's moving averages.
    """
    call = _TRAIN_MODE_CALLS.get(generator)
    if call is None:
        call = _compile_training_mode(generator)
        _TRAIN_MODE_CALLS[generator] = call
    return call(z)


def _compile_training_mode(generator):
    backend = keras.config.backend()
    if backend == "tensorflow":
        return tf.function(lambda noise: generator(noise, training=True))
    if backend != "jax":
        return lambda noise: generator(noise, training=True)
    import jax

    stateless = jax.jit(lambda trainable, non_trainable, noise: generator.stateless_call(
        trainable, non_trainable, noise, training=True))

    def call(noise):
        images, non_trainable = stateless([v.value for v in generator.trainable_variables],
                                          [v.value for v in generator.non_trainable_variables],
                                          noise)
        for variable, value in zip(generator.non_trainable_variables, non_trainable):
            variable.assign(value)  # BatchNorm's moving averages, as an eager call updates them
        return images
    return call


def batch_logs(model, x, y) -> dict[str, float]:
    """``model.train_on_batch(x, y)``'s logs for this batch alone, on every Keras 3.

    Before Keras 3.15 ``train_on_batch`` returns the metrics (the loss included) averaged
    over every batch since the last reset; resetting them first gives the batch's own.
    """
    model.reset_metrics()
    # The first call traces and optimises the train function: quiet grappler's harmless line.
    shapes = tuple(np.shape(v) for v in x) if isinstance(x, (list, tuple)) else np.shape(x)
    with quiet_first_run(model, (shapes, np.shape(y))):
        logs = model.train_on_batch(x, y, return_dict=True)
        return {key: float(value) for key, value in logs.items()}


def mean_score(y_true, y_pred):
    """Keras metric: the discriminator's mean output over the batch (D(G(z)) in G's step)."""
    del y_true
    return keras.ops.mean(y_pred)


# D's step sees one batch: real images in the first half, fakes in the second. These
# metrics read each half, so one update reports D(x), D(G(z)) and both losses.
def _first_half(values):
    return values[: keras.ops.shape(values)[0] // 2]


def _second_half(values):
    return values[keras.ops.shape(values)[0] // 2:]


def d_real(y_true, y_pred):
    """Keras metric: mean D(x) over the real (first) half of D's batch."""
    del y_true
    return keras.ops.mean(_first_half(y_pred))


def d_fake(y_true, y_pred):
    """Keras metric: mean D(G(z)) over the fake (second) half of D's batch."""
    del y_true
    return keras.ops.mean(_second_half(y_pred))


def d_loss_real(y_true, y_pred):
    """Keras metric: binary cross-entropy on the real half of D's batch."""
    return keras.ops.mean(keras.losses.binary_crossentropy(_first_half(y_true), _first_half(y_pred)))


def d_loss_fake(y_true, y_pred):
    """Keras metric: binary cross-entropy on the fake half of D's batch."""
    return keras.ops.mean(keras.losses.binary_crossentropy(_second_half(y_true), _second_half(y_pred)))


def compile_discriminator(discriminator, lr_d: float = 2e-4, beta_1: float = 0.5):
    """Compile D for its own step: Adam, binary cross-entropy, and per-half scores."""
    discriminator.trainable = True
    discriminator.compile(
        optimizer=keras.optimizers.Adam(learning_rate=lr_d, beta_1=beta_1),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[d_real, d_fake, d_loss_real, d_loss_fake],
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
    return compile_gan(keras.Sequential([generator, discriminator], name="gan"), discriminator,
                       lr_d=lr_d, lr_g=lr_g, beta_1=beta_1)


def compile_gan(gan, discriminator, lr_d: float = 2e-4, lr_g: float = 2e-4, beta_1: float = 0.5):
    """Freeze D inside ``gan`` and compile ``gan`` for G's step (D first, if it is not yet).

    ``gan`` is any model that feeds G's images to ``discriminator``: :func:`build_gan`'s
    ``Sequential``, or the conditional one of :mod:`gan_helpers.conditional`.
    """
    if not getattr(discriminator, "compiled", False):
        compile_discriminator(discriminator, lr_d=lr_d, beta_1=beta_1)
    discriminator.trainable = False
    gan.compile(
        optimizer=keras.optimizers.Adam(learning_rate=lr_g, beta_1=beta_1),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[mean_score],
    )
    return gan


def latent_size(generator) -> int:
    """Length of G's noise input z (its first input; a conditional G also takes a label)."""
    return int(generator.inputs[0].shape[-1])


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


def interpolate_noise(z_start, z_end, steps: int = 8, spherical: bool = True) -> np.ndarray:
    """Latent vectors on the way from ``z_start`` to ``z_end`` (both included).

    Spherical interpolation (slerp) keeps the vectors at the norm typical of Gaussian
    noise, where straight lines pass through the unusually short middle.

    Returns:
        float32 (steps, latent_dim).
    """
    z_start = np.asarray(z_start, np.float64).ravel()
    z_end = np.asarray(z_end, np.float64).ravel()
    if z_start.shape != z_end.shape:
        raise ValueError(f"z_start and z_end differ in shape: {z_start.shape} vs {z_end.shape}")
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    t = np.linspace(0.0, 1.0, steps)[:, None]
    cos = np.dot(z_start, z_end) / (np.linalg.norm(z_start) * np.linalg.norm(z_end))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if spherical and omega >= 1e-6:  # (nearly) parallel vectors: the line is the arc
        path = (np.sin((1 - t) * omega) * z_start + np.sin(t * omega) * z_end) / np.sin(omega)
    else:
        path = (1 - t) * z_start + t * z_end
    return path.astype(np.float32)


def snapshot_weights(model) -> list[np.ndarray]:
    """Copies of all of a model's weights, to compare after a step."""
    return [np.array(w.numpy(), copy=True) for w in model.weights]


def count_changed_weights(snapshot: list[np.ndarray], model, trainable_only: bool = False):
    """How many of ``model``'s weight tensors differ from ``snapshot``.

    Args:
        snapshot: from :func:`snapshot_weights` on the same model.
        trainable_only: count only weights that an optimiser may update (not BatchNorm's
            moving statistics, which change in any training-mode call).

    Returns:
        (changed, total) counts of weight tensors.
    """
    pairs = [(old, w) for old, w in zip(snapshot, model.weights)
             if not trainable_only or w.trainable]
    changed = sum(not np.array_equal(old, w.numpy()) for old, w in pairs)
    return changed, len(pairs)


def draw_discriminator_inputs(rng: np.random.Generator, image_shape: tuple, latent_dim: int,
                              config: GANConfig):
    """The random draws of D's half of an iteration, in their fixed order.

    Noise for the fakes, then the real and fake labels (and flips), then the instance
    noise for every image D sees, real and fake. Both the classic and the fused step draw
    through here, so they consume the NumPy generator identically and a run can switch
    between them.

    Args:
        image_shape: (N, S, S, C) of the real batch.

    Returns:
        ``(z, labels, instance_noise)``: z float32 (N, latent_dim); labels float32
        (2N, 1), real first; instance noise float64 (2N, S, S, C), real first, or
        None when off.
    """
    batch = int(image_shape[0])
    z = sample_noise(rng, batch, latent_dim)
    real_labels, fake_labels = sample_labels(
        rng, batch, config.real_label_range, config.fake_label_range,
        config.label_flip_prob)
    noise = None
    if config.instance_noise_std > 0:
        noise = rng.normal(0.0, config.instance_noise_std, size=(2 * batch, *image_shape[1:]))
    return z, np.concatenate([real_labels, fake_labels]), noise


FUSED_ONLY = {
    "r1_gamma": "train_on_batch cannot take D's gradient at its input",
}
"""The loss terms only :class:`gan_helpers.core.fused.FusedStep` computes, and why the classic
``train_on_batch`` step cannot."""


def refuse_fused_only(config: GANConfig, *names: str,
                      needs: str = "the fused step (gan_helpers.FusedStep, train's default "
                                   "step='fused')") -> None:
    """Raise ValueError, in one line, for the first of ``names`` (default: every
    :data:`FUSED_ONLY` term) that ``config`` turns on."""
    for name in names or FUSED_ONLY:
        if getattr(config, name):
            raise ValueError(f"{name} needs {needs}: {FUSED_ONLY[name]}")


def train_discriminator(generator, discriminator, real_images, *, rng: np.random.Generator,
                        config: GANConfig | None = None, conditions=None) -> dict[str, float]:
    """The discriminator's half of an iteration: one update on real and fake images together.

    As in DCGAN, D takes one optimiser step per iteration on the loss over a batch of
    real images and a batch of fakes (here concatenated: real first, then fake).

    Args:
        generator, discriminator: D must be compiled (:func:`build_gan` does it).
        real_images: float32 (N, S, S, C) in [-1, 1].
        rng: NumPy generator for noise, labels and instance noise.
        config: labels, flips and instance noise (defaults: :class:`GANConfig`).
        conditions: for a conditional GAN, float32 (N, L): the real images' attributes,
            one-hot. Each fake is drawn for the attributes of the real image beside it,
            and D sees every image with its attributes.

    Returns:
        ``d_loss`` (mean over both halves), ``d_loss_real``, ``d_loss_fake``, ``d_real``
        (mean D(x)) and ``d_fake`` (mean D(G(z))), measured before the update.
    """
    config = config or GANConfig()
    refuse_fused_only(config, "r1_gamma")
    z, labels, noise = draw_discriminator_inputs(
        rng, tuple(real_images.shape), latent_size(generator), config)
    # Fakes made in training mode, as the generator sees itself in its own step (trap 2).
    fake_images = generate_training_mode(generator, z if conditions is None else [z, conditions])
    ops = keras.ops
    images = ops.concatenate([ops.convert_to_tensor(real_images, "float32"), fake_images], axis=0)
    if noise is not None:
        # Instance noise on every image D sees, real and fake alike: on the real ones only,
        # D could tell them apart by the grain instead of by the faces.
        images = images + ops.convert_to_tensor(np.asarray(noise, np.float32))

    if conditions is not None:
        images = [images, np.concatenate([conditions, conditions])]
    discriminator.trainable = True  # trap 1: set before every step, not once at compile
    logs = batch_logs(discriminator, images, labels)
    return {
        "d_loss": logs["loss"],
        "d_loss_real": logs["d_loss_real"],
        "d_loss_fake": logs["d_loss_fake"],
        "d_real": logs["d_real"],
        "d_fake": logs["d_fake"],
    }


def train_generator(generator, discriminator, gan, batch_size: int, *,
                    rng: np.random.Generator, conditions=None) -> dict[str, float]:
    """The generator's half: one update of G through ``gan`` with D frozen.

    The targets are 1 ("real"): G is rewarded when the frozen D is fooled. A conditional
    ``gan`` also takes ``conditions``, float32 (batch_size, L), the attributes asked for.

    Returns:
        ``g_loss`` and ``g_d_fake`` (mean D(G(z)) seen by G's step, before its update).
    """
    discriminator.trainable = False  # trap 1 again: frozen right before G's step
    z = sample_noise(rng, batch_size, latent_size(generator))
    logs = batch_logs(gan, z if conditions is None else [z, conditions],
                      np.ones((batch_size, 1), np.float32))
    return {"g_loss": logs["loss"], "g_d_fake": logs["mean_score"]}


def train_step(generator, discriminator, gan, real_images, *, rng: np.random.Generator,
               config: GANConfig | None = None, conditions=None) -> dict[str, float]:
    """Run one classic GAN iteration: D on real and fake images, then G through ``gan``.

    Args:
        generator, discriminator, gan: from :func:`build_gan`.
        real_images: float32 (N, S, S, C) in [-1, 1].
        rng: NumPy generator for noise, labels and instance noise.
        config: labels, flips and instance noise (defaults: :class:`GANConfig`).
        conditions: for a conditional GAN, the real images' attributes, float32 (N, L)
            one-hot; G's step asks for the same ones.

    Returns:
        ``d_loss``, ``d_loss_real``, ``d_loss_fake``, ``g_loss``, ``d_real`` (mean D(x))
        and ``d_fake`` (mean D(G(z))), as floats.
    """
    logs = train_discriminator(generator, discriminator, real_images, rng=rng, config=config,
                               conditions=conditions)
    g_logs = train_generator(generator, discriminator, gan, int(real_images.shape[0]), rng=rng,
                             conditions=conditions)
    return {**logs, **{k: v for k, v in g_logs.items() if k != "g_d_fake"}}
