"""DCGAN generator and discriminator as Keras ``Sequential`` models (Radford et al. 2015).

The rules: no pooling (strided convolutions down, transposed convolutions up),
BatchNorm in the generator, ReLU in the generator with a tanh output in [-1, 1],
LeakyReLU(0.2) in the discriminator, weights drawn from N(0, 0.02).
"""
from __future__ import annotations

from ._tf import keras
from .config import SUPPORTED_IMAGE_SIZES

layers = keras.layers


def _check_image_size(image_size: int) -> int:
    if image_size not in SUPPORTED_IMAGE_SIZES:
        raise ValueError(
            f"image_size must be one of {SUPPORTED_IMAGE_SIZES} for the DCGAN models, "
            f"got {image_size!r}"
        )
    # 4x4 at the narrow end, doubling per block: 32 -> 3 blocks, 64 -> 4, 128 -> 5.
    return {32: 3, 64: 4, 128: 5}[image_size]


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
        ops = keras.ops
        shape = ops.shape(inputs)
        batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
        group = ops.minimum(self.group_size, batch)
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


def _init(seed=None):
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02, seed=seed)


def build_generator(
    latent_dim: int = 100,
    image_size: int = 64,
    channels: int = 3,
    filters: int = 64,
    bn_momentum: float = 0.9,
    name: str = "generator",
) -> keras.Sequential:
    """Build the DCGAN generator: noise z -> image.

    Args:
        latent_dim: length of z.
        image_size: 32, 64 or 128.
        channels: 3 for RGB, 1 for grayscale.
        filters: channels of the last hidden layer; each earlier block doubles them.
        bn_momentum: BatchNorm moving-average momentum (0.9 = PyTorch's 0.1), used
            when sampling with ``training=False``.

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
    model.add(layers.Reshape((4, 4, width)))
    model.add(layers.BatchNormalization(momentum=bn_momentum))
    model.add(layers.ReLU())
    for _ in range(blocks - 1):
        width //= 2
        model.add(layers.Conv2DTranspose(
            width, 4, strides=2, padding="same", use_bias=False, kernel_initializer=_init()))
        model.add(layers.BatchNormalization(momentum=bn_momentum))
        model.add(layers.ReLU())
    model.add(layers.Conv2DTranspose(
        channels, 4, strides=2, padding="same", kernel_initializer=_init(), name="to_image"))
    model.add(layers.Activation("tanh", dtype="float32", name="tanh"))
    return model


def build_discriminator(
    image_size: int = 64,
    channels: int = 3,
    filters: int = 64,
    batch_norm: bool = False,
    dropout: float = 0.0,
    minibatch_std: int = 0,
    name: str = "discriminator",
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

    Returns:
        A model mapping float32 (N, S, S, channels) in [-1, 1] to float32 (N, 1) in (0, 1).
    """
    blocks = _check_image_size(image_size)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(image_size, image_size, channels), name="image"))
    width = filters
    for block in range(blocks):
        model.add(layers.Conv2D(
            width, 4, strides=2, padding="same", use_bias=not (batch_norm and block > 0),
            kernel_initializer=_init()))
        if batch_norm and block > 0:
            model.add(layers.BatchNormalization())
        model.add(layers.LeakyReLU(negative_slope=0.2))
        if dropout:
            model.add(layers.Dropout(dropout))
        width *= 2
    if minibatch_std:
        model.add(MinibatchStdDev(minibatch_std))
    model.add(layers.Flatten())
    model.add(layers.Dense(1, kernel_initializer=_init(), name="logit"))
    model.add(layers.Activation("sigmoid", dtype="float32", name="probability"))
    return model
