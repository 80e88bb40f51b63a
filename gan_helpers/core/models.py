"""DCGAN generator and discriminator as Keras ``Sequential`` models (Radford et al. 2015).

The rules: no pooling (strided convolutions down, transposed convolutions up),
BatchNorm in the generator, ReLU in the generator with a tanh output in [-1, 1],
LeakyReLU(0.2) in the discriminator, weights drawn from N(0, 0.02).
"""
from __future__ import annotations

import contextlib

import numpy as np

from .._tf import keras, tf
from .config import SUPPORTED_IMAGE_SIZES, parse_augment

layers = keras.layers
ops = keras.ops


@contextlib.contextmanager
def dtype_policy(name: str):
    """Build models under a Keras dtype policy (e.g. ``"mixed_bfloat16"``), then restore
    the previous global policy, so one run's precision never leaks into the next model.

    Layers keep the policy they were built with; optimisers compiled inside the block
    get loss scaling under ``"mixed_float16"``.
    """
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _check_image_size(image_size: int) -> int:
    if image_size not in SUPPORTED_IMAGE_SIZES:
        raise ValueError(
            f"image_size must be one of {SUPPORTED_IMAGE_SIZES} for the DCGAN models, "
            f"got {image_size!r}"
        )
    # 4x4 at the narrow end, doubling per block: 32 -> 3 blocks, 64 -> 4, 128 -> 5.
    return {32: 3, 64: 4, 128: 5}[image_size]


def forward_flops(model) -> int:
    """Multiply-adds x2 of one image through ``model``'s Dense and convolution layers."""
    total = 0
    for layer in model.layers:
        name = type(layer).__name__
        if name == "Dense":
            total += 2 * int(np.prod(layer.kernel.shape))
        elif name == "Conv2D":
            out_h, out_w = layer.output.shape[1:3]
            total += 2 * out_h * out_w * int(np.prod(layer.kernel.shape))
        elif name == "Conv2DTranspose":
            in_h, in_w = layer.input.shape[1:3]
            total += 2 * in_h * in_w * int(np.prod(layer.kernel.shape))
    return total


def iteration_flops(generator, discriminator, batch_size: int) -> int:
    """FLOPs of one iteration, counting a backward pass as twice its forward.

    D's half: G forward on a batch, D forward and backward on twice the batch.
    G's half: G forward and backward, D forward and input-gradient backward on a batch.
    """
    g, d = forward_flops(generator), forward_flops(discriminator)
    return batch_size * (g + 3 * d * 2 + 3 * g + 2 * d)


@keras.saving.register_keras_serializable(package="gan_helpers")
class MinibatchStdDev(layers.Layer):
    """Append one feature map: how much the images of a small group differ (Karras et al. 2018).

    For each group of ``group_size`` consecutive images, the standard deviation of every
    feature across the group is averaged into one number and appended as a constant
    channel. A generator that draws the same face for every z produces a telltale 0, so
    the discriminator can punish collapse. Unlike BatchNorm it has no moving statistics:
    it computes the same function frozen or not, in training or inference mode. Groups
    never straddle D's real and fake halves when the half size is a multiple of the group.
    """

    def __init__(self, group_size: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.group_size = group_size

    def call(self, inputs):
        shape = ops.shape(inputs)
        batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
        # A static batch (JAX, or a known shape) keeps the group a Python int.
        group = min(self.group_size, batch) if isinstance(batch, int) else \
            ops.minimum(self.group_size, batch)
        # Consecutive images form a group: (batch / group, group, H, W, C).
        grouped = ops.reshape(inputs, (-1, group, height, width, channels))
        std = ops.sqrt(ops.var(grouped, axis=1) + 1e-8)               # (batch / group, H, W, C)
        score = ops.mean(std, axis=(1, 2, 3))                         # (batch / group,)
        score = ops.repeat(score, group, axis=0)                      # (batch,)
        score = ops.broadcast_to(ops.reshape(score, (-1, 1, 1, 1)), (batch, height, width, 1))
        return ops.concatenate([inputs, ops.cast(score, inputs.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size}


@keras.saving.register_keras_serializable(package="gan_helpers")
class DiffAugment(layers.Layer):
    """Differentiable augmentation of everything D sees (Zhao et al. 2020, "DiffAugment").

    Active only when the layer is called with ``training=True``: in D's step it changes
    the real and the fake images alike, and in G's step (through the combined model) the
    fakes again, so gradients reach G through the same augmentations. Sampling and
    ``D.predict`` see the images untouched. With few images, D otherwise memorises the
    real set and wins; augmenting both sides keeps it from doing so without teaching G
    to draw augmented faces.

    Args:
        policy: any of ``"color"`` (brightness, saturation, contrast per image),
            ``"translation"`` (shift by up to 1/8 of the side, padding with 0) and
            ``"cutout"`` (a square of half the side set to 0), comma-separated.
        seed: seed of the layer's own random stream.
    """

    def __init__(self, policy="color,translation,cutout", seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.policy = ",".join(parse_augment(policy))
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _uniform(self, batch, low=0.0, high=1.0, dtype="float32"):
        draw = keras.random.uniform((batch, 1, 1, 1), low, high, seed=self.seed_generator)
        return ops.cast(draw, dtype)

    def call(self, inputs, training=None):
        if not training or not self.policy:
            return inputs
        x = inputs
        batch = ops.shape(x)[0]
        for name in self.policy.split(","):
            if name == "color":
                x = x + (self._uniform(batch, dtype=x.dtype) - 0.5)
                mean_pixel = ops.mean(x, axis=3, keepdims=True)
                x = (x - mean_pixel) * self._uniform(batch, 0.0, 2.0, x.dtype) + mean_pixel
                mean_image = ops.mean(x, axis=[1, 2, 3], keepdims=True)
                x = (x - mean_image) * self._uniform(batch, 0.5, 1.5, x.dtype) + mean_image
            elif name == "translation":
                x = self._translate(x, batch)
            elif name == "cutout":
                x = self._cutout(x, batch)
        return x

    def _translate(self, x, batch):
        size, channels = x.shape[1], x.shape[3]
        shift = int(size * 0.125 + 0.5)
        moves = keras.random.randint((2, batch), -shift, shift + 1, seed=self.seed_generator)
        grid = ops.arange(size)[None, :]
        rows, cols = grid - moves[0][:, None], grid - moves[1][:, None]  # (batch, size)
        inside = ((rows >= 0) & (rows < size))[:, :, None, None] & \
                 ((cols >= 0) & (cols < size))[:, None, :, None]
        # Each image's rows, then its columns, moved by its own shift (edges clamped,
        # then blanked by ``inside``).
        rows, cols = ops.clip(rows, 0, size - 1), ops.clip(cols, 0, size - 1)
        if keras.config.backend() == "tensorflow":
            # A batched gather on int32 indices: ops.take_along_axis casts them to int64,
            # which logs a oneDNN fallback line on CPU.
            x = tf.gather(x, rows, axis=1, batch_dims=1)
            x = tf.gather(x, cols, axis=2, batch_dims=1)
        else:
            full = (batch, size, size, channels)
            x = ops.take_along_axis(x, ops.broadcast_to(rows[:, :, None, None], full), axis=1)
            x = ops.take_along_axis(x, ops.broadcast_to(cols[:, None, :, None], full), axis=2)
        return ops.where(inside, x, ops.zeros_like(x))

    def _cutout(self, x, batch):
        size = x.shape[1]
        half = int(size * 0.5 + 0.5) // 2
        centres = keras.random.randint((2, batch), 0, size, seed=self.seed_generator)
        grid = ops.arange(size)[None, :]
        rows = ops.abs(grid - centres[0][:, None]) < half
        cols = ops.abs(grid - centres[1][:, None]) < half
        hole = rows[:, :, None, None] & cols[:, None, :, None]
        return ops.where(hole, ops.zeros_like(x), x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "policy": self.policy, "seed": self.seed}


def _init(seed=None):
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02, seed=seed)


@keras.saving.register_keras_serializable(package="gan_helpers")
class SpectralNorm(layers.Layer):
    """Wrap a ``Conv2D`` or ``Dense``: use its kernel divided by its largest singular value.

    Spectral normalisation (Miyato et al. 2018) keeps each layer of D 1-Lipschitz, so D
    cannot become arbitrarily sharp and G's gradients stay useful. The singular value is
    estimated by one power-iteration step per training call, on a stored vector ``u``.

    Unlike ``keras.layers.SpectralNormalization``, which writes the normalised kernel back
    into the wrapped layer whenever it is called in training mode (so a "frozen" D would
    still change in G's step), this layer never assigns the kernel: it convolves with the
    normalised kernel directly and updates ``u`` only while the layer is trainable. A
    frozen D computes the same function and changes no weight.
    """

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, (layers.Conv2D, layers.Dense)):
            raise ValueError(f"SpectralNorm wraps Conv2D or Dense layers, not {type(layer).__name__}")
        self.layer = layer

    def build(self, input_shape):
        self.layer.build(input_shape)
        units = int(self.layer.kernel.shape[-1])
        self.u = self.add_weight(shape=(1, units), name="u", trainable=False,
                                 initializer=keras.initializers.RandomNormal(0.0, 1.0))

    def _normalised_kernel(self, training):
        kernel = self.layer.kernel
        matrix = keras.ops.reshape(kernel, (-1, kernel.shape[-1]))      # (fan_in, units)
        u = keras.ops.stop_gradient(self.u)
        v = _l2_normalise(keras.ops.matmul(u, keras.ops.transpose(matrix)))  # (1, fan_in)
        if training and self.trainable:
            u = _l2_normalise(keras.ops.matmul(v, matrix))
            self.u.assign(keras.ops.stop_gradient(u))
        v, u = keras.ops.stop_gradient(v), keras.ops.stop_gradient(u)
        sigma = keras.ops.sum(keras.ops.matmul(v, matrix) * u)
        return kernel / sigma

    def call(self, inputs, training=None):
        inner = self.layer
        kernel = keras.ops.cast(self._normalised_kernel(training), self.compute_dtype)
        if isinstance(inner, layers.Conv2D):
            outputs = keras.ops.conv(inputs, kernel, strides=inner.strides, padding=inner.padding)
        else:
            outputs = keras.ops.matmul(inputs, kernel)
        if inner.use_bias:
            outputs = outputs + keras.ops.cast(inner.bias, self.compute_dtype)
        return outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "layer": keras.saving.serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config):
        config["layer"] = keras.saving.deserialize_keras_object(config["layer"])
        return cls(**config)


def _l2_normalise(x):
    return x / (keras.ops.sqrt(keras.ops.sum(x * x)) + 1e-12)


def build_generator(
    latent_dim: int = 100,
    image_size: int = 64,
    channels: int = 3,
    filters: int = 64,
    bn_momentum: float = 0.9,
    name: str = "generator",
    synchronized_bn: bool = False,
) -> keras.Sequential:
    """Build the DCGAN generator: noise z -> image.

    Args:
        latent_dim: length of z.
        image_size: 32, 64 or 128.
        channels: 3 for RGB, 1 for grayscale.
        filters: channels of the last hidden layer; each earlier block doubles them.
        bn_momentum: BatchNorm moving-average momentum (0.9 = PyTorch's 0.1), used
            when sampling with ``training=False``.
        synchronized_bn: BatchNorm statistics over the whole batch across devices, for
            training under a ``tf.distribute`` strategy with several replicas (the same
            statistics a single device computes).

    Returns:
        A model mapping float32 (N, latent_dim) to float32 (N, S, S, channels) in [-1, 1].
    """
    blocks = _check_image_size(image_size)
    if latent_dim < 1 or channels < 1 or filters < 1:
        raise ValueError("latent_dim, channels and filters must be positive integers")
    width = filters * 2 ** (blocks - 1)  # 512 for 64 px with filters=64
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(latent_dim,), name="z"))
    model.add(layers.Dense(4 * 4 * width, use_bias=False, kernel_initializer=_init(), name="project"))
    model.add(layers.Reshape((4, 4, width), name="to_4x4"))
    model.add(layers.BatchNormalization(momentum=bn_momentum, synchronized=synchronized_bn,
                                        name="bn_4"))
    model.add(layers.ReLU(name="relu_4"))
    # Each doubling is a 4x4 transposed convolution with stride 2, named after the image
    # size it outputs (up_8, bn_8, ...): the names are the same in every build, so the
    # optimisers' slots are saved by name.
    size = 4
    for block in range(1, blocks):
        size *= 2
        model.add(layers.Conv2DTranspose(width // 2 ** block, 4, strides=2, padding="same",
                                         use_bias=False, kernel_initializer=_init(), name=f"up_{size}"))
        model.add(layers.BatchNormalization(momentum=bn_momentum, synchronized=synchronized_bn,
                                            name=f"bn_{size}"))
        model.add(layers.ReLU(name=f"relu_{size}"))
    model.add(layers.Conv2DTranspose(channels, 4, strides=2, padding="same", use_bias=True,
                                     kernel_initializer=_init(), name="to_image"))
    model.add(layers.Activation("tanh", dtype="float32", name="tanh"))
    return model


def build_discriminator(
    image_size: int = 64,
    channels: int = 3,
    filters: int = 64,
    batch_norm: bool = False,
    dropout: float = 0.0,
    minibatch_std: int = 0,
    augment: str = "",
    seed: int | None = None,
    name: str = "discriminator",
    spectral_norm: bool = False,
) -> keras.Sequential:
    """Build the DCGAN discriminator: image -> probability that it is real.

    Args:
        image_size: 32, 64 or 128.
        channels: 3 for RGB, 1 for grayscale.
        filters: channels of the first convolution; each later block doubles them.
        batch_norm: add BatchNorm after each convolution but the first (as DCGAN did).
            Off by default: Keras 3 runs a frozen BatchNorm on its moving statistics,
            so D would compute a different function in the generator's step.
        dropout: dropout rate after each convolution (0 disables it).
        minibatch_std: group size of a :class:`MinibatchStdDev` layer before the output
            (0 disables it); lets D see whether a group of images is too alike.
        augment: a :class:`DiffAugment` policy applied to D's input in training
            (``""`` disables it), e.g. ``"color,translation,cutout"``.
        seed: seed of the augmentation's random stream.
        spectral_norm: wrap every convolution and the output layer in
            :class:`SpectralNorm` (Miyato et al. 2018).

    Returns:
        A model mapping float32 (N, S, S, channels) in [-1, 1] to float32 (N, 1) in (0, 1).
    """
    blocks = _check_image_size(image_size)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(image_size, image_size, channels), name="image"))
    if parse_augment(augment):
        model.add(DiffAugment(augment, seed=seed, name="augment"))
    def normalised(layer):
        return SpectralNorm(layer, name=f"sn_{layer.name}") if spectral_norm else layer

    # Layers are named after the image size they output (conv_32, lrelu_32, ...), the same
    # in every build, so the optimiser's slots are saved by name.
    width, size = filters, image_size
    for block in range(blocks):
        size //= 2
        model.add(normalised(layers.Conv2D(
            width, 4, strides=2, padding="same", use_bias=not (batch_norm and block > 0),
            kernel_initializer=_init(), name=f"conv_{size}")))
        if batch_norm and block > 0:
            model.add(layers.BatchNormalization(name=f"bn_{size}"))
        model.add(layers.LeakyReLU(negative_slope=0.2, name=f"lrelu_{size}"))
        if dropout:
            model.add(layers.Dropout(dropout, name=f"dropout_{size}"))
        width *= 2
    if minibatch_std:
        model.add(MinibatchStdDev(minibatch_std, name="minibatch_std"))
    model.add(layers.Flatten(name="flatten"))
    model.add(normalised(layers.Dense(1, kernel_initializer=_init(), name="logit")))
    model.add(layers.Activation("sigmoid", dtype="float32", name="probability"))
    return model
