"""The fast path: one classic GAN iteration as a single compiled ``tf.function``.

:func:`gan_helpers.train_step` is the teaching path: two ``train_on_batch`` calls, the
discriminator's ``trainable`` flag flipped between them, NumPy in between. A fused step
computes **the same thing** in one graph: the same noise and labels (drawn from the same
NumPy generator in the same order), the same BatchNorm modes, the same losses and the
same optimiser objects (D's compiled optimiser and the combined model's), so a run can
switch between the two paths and checkpoints are shared. ``tests/test_fused.py`` starts
both from identical weights and checks the updated weights agree to float tolerance.
"""
from __future__ import annotations

import contextlib

import numpy as np

from .._tf import keras, quiet_first_run, tf
from .config import GANConfig
from .gan import draw_discriminator_inputs, sample_noise

_bce_mean = keras.losses.BinaryCrossentropy()  # mean over the batch, as D and the GAN compile it

R1_EVERY = 4
"""With ``config.r1_gamma`` on, D's step adds the R1 penalty every this many iterations,
weighted this many times more (lazy regularisation, as in StyleGAN2)."""


def _apply_layers(layers, x, training: bool = True):
    """Call a slice of a ``Sequential``'s layers in turn, as the model itself would."""
    for layer in layers:
        x = layer(x, training=training)
    return x


def discriminator_logits(discriminator, images, training: bool = True):
    """D's output before its final sigmoid: every layer but the ``probability`` one."""
    if discriminator.layers[-1].name != "probability":
        raise ValueError(f"{discriminator.name} does not end in the 'probability' sigmoid "
                         "of gan_helpers.build_discriminator")
    return tf.cast(_apply_layers(discriminator.layers[:-1], images, training), tf.float32)


def r1_penalty(discriminator, real, gamma: float):
    """γ/2 · mean over the batch of ‖∇ₓ logit D(x)‖² at the real images ``x``."""
    real = tf.convert_to_tensor(real)
    with tf.GradientTape() as tape:
        tape.watch(real)
        total = tf.reduce_sum(discriminator_logits(discriminator, real, training=True))
    grads = tf.cast(tape.gradient(total, real), tf.float32)
    return 0.5 * gamma * tf.reduce_mean(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]))


class FusedStep:
    """Callable ``step(real_images, rng) -> logs`` doing D's and G's updates in one graph.

    Args:
        generator, discriminator, gan: from :func:`gan_helpers.build_gan` (the optimisers
            are taken from ``discriminator`` and ``gan``).
        config: labels, flips and instance noise (defaults: :class:`GANConfig`).
        jit_compile: compile with XLA (slower on the CPUs measured here; try it on a GPU).
        strategy: a ``tf.distribute.Strategy`` the models were built under (see
            :func:`gan_helpers.core.training.build_models`). Each replica gets a contiguous
            slice of the batch; Keras' loss objects divide by the number of replicas, so
            the summed gradients equal the single-device ones. BatchNorm in G must be
            synchronised (``build_generator(synchronized_bn=True)``). DiffAugment draws
            its randomness per replica, so with it a distributed run is equivalent to,
            not identical with, a single-device run.

    The logs match :func:`gan_helpers.train_step`: ``d_loss``, ``d_loss_real``,
    ``d_loss_fake``, ``g_loss``, ``d_real`` and ``d_fake``.

    With ``config.r1_gamma`` on, D's loss gains :func:`r1_penalty` on the real half every
    :data:`R1_EVERY` iterations (counted by D's optimiser, so a resumed run keeps the
    rhythm), with ``R1_EVERY`` times its weight; ``d_loss`` stays the BCE alone and
    ``d_r1`` logs the penalty (γ/2 · E‖∇ₓ logit‖², before the ×4) of the latest
    iteration that computed it. Only this step has it: ``train_on_batch`` cannot take a
    gradient with respect to D's input.
    """

    def __init__(self, generator, discriminator, gan, config: GANConfig | None = None,
                 jit_compile: bool = False, strategy=None):
        self.generator, self.discriminator, self.gan = generator, discriminator, gan
        self.config = config or GANConfig()
        self.latent_dim = int(generator.input_shape[-1])
        self.strategy = strategy
        self.replicas = strategy.num_replicas_in_sync if strategy is not None else 1
        # Build both optimisers outside the graph, on the variables each one updates.
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            discriminator.trainable = True
            if not discriminator.optimizer.built:
                discriminator.optimizer.build(discriminator.trainable_variables)
            if not gan.optimizer.built:
                gan.optimizer.build(generator.trainable_variables)
        step = self._step if strategy is None else self._distributed_step
        self._graph_step = tf.function(step, jit_compile=jit_compile, reduce_retracing=True)
        self._last_r1 = 0.0

    def _distributed_step(self, *inputs, r1=False):
        per_replica = self.strategy.run(self._step, args=inputs, kwargs={"r1": r1})
        return {key: self.strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
                for key, value in per_replica.items()}

    def _step(self, real, z_d, z_g, real_labels, fake_labels, *fake_noise, r1=False):
        generator, discriminator = self.generator, self.discriminator
        d_optimizer, g_optimizer = discriminator.optimizer, self.gan.optimizer
        halves = tf.shape(real_labels)[0]  # D's scores per half: one per image
        d_labels = tf.concat([real_labels, fake_labels], axis=0)

        # D's half, as train_discriminator: fakes from G in training mode, one update on
        # [real; fake]. ``trainable`` is read here, at trace time, as Keras itself does.
        discriminator.trainable = True
        fakes = generator(z_d, training=True)
        if fake_noise:  # instance noise: the real half had its share added before the graph
            fakes = fakes + tf.cast(fake_noise[0], fakes.dtype)
        images = tf.concat([tf.cast(real, fakes.dtype), fakes], axis=0)
        with tf.GradientTape() as tape:
            scores = discriminator(images, training=True)
            d_loss = _bce_mean(d_labels, scores)
            total = d_loss
            if r1:  # a Python bool: the step is traced once with the penalty, once without
                penalty = r1_penalty(discriminator, real, self.config.r1_gamma) / self.replicas
                total = d_loss + R1_EVERY * penalty
            scaled = d_optimizer.scale_loss(total)
        d_vars = discriminator.trainable_variables
        d_optimizer.apply(tape.gradient(scaled, d_vars), d_vars)

        # G's half, as the combined model's train_on_batch with D frozen.
        discriminator.trainable = False
        ones = tf.ones((tf.shape(z_g)[0], 1), tf.float32)
        with tf.GradientTape() as tape:
            g_scores = discriminator(generator(z_g, training=True), training=True)
            g_loss = _bce_mean(ones, g_scores)
            scaled = g_optimizer.scale_loss(g_loss)
        g_vars = generator.trainable_variables
        g_optimizer.apply(tape.gradient(scaled, g_vars), g_vars)

        # Under a strategy with several replicas Keras' loss objects divide by their number
        # (so summed gradients are the global mean's); the logs undo it.
        real_scores, fake_scores = scores[:halves], scores[halves:]
        n = float(self.replicas)
        extra = {"d_r1": penalty * n} if r1 else {}
        return {
            "d_loss": d_loss * n,
            "d_loss_real": _bce_mean(real_labels, real_scores) * n,
            "d_loss_fake": _bce_mean(fake_labels, fake_scores) * n,
            "d_real": tf.reduce_mean(real_scores),
            "d_fake": tf.reduce_mean(fake_scores),
            "g_loss": g_loss * n,
            **extra,
        }

    def draw_inputs(self, real_images, rng: np.random.Generator):
        """The noise, labels and instance noise of one iteration, in the classic order.

        Returns ``(real, z_d, z_g, labels, fake_noise)``: the real images with their
        instance noise already added, and the fakes' share of it (None when off).
        """
        real = np.asarray(real_images, np.float32)
        z_d, labels, noise = draw_discriminator_inputs(rng, real.shape, self.latent_dim, self.config)
        fake_noise = None
        if noise is not None:  # added in float32 by TensorFlow, as the classic step does
            batch = real.shape[0]
            real = (tf.constant(real) + tf.constant(noise[:batch], dtype=tf.float32)).numpy()
            fake_noise = noise[batch:].astype(np.float32)
        z_g = sample_noise(rng, real.shape[0], self.latent_dim)  # as train_generator draws it
        return real, z_d, z_g, labels, fake_noise

    def __call__(self, real_images, *, rng: np.random.Generator) -> dict[str, float]:
        real, z_d, z_g, labels, fake_noise = self.draw_inputs(real_images, rng)
        batch, halves = real.shape[0], len(labels) // 2
        inputs = (real, z_d, z_g, labels[:halves], labels[halves:])
        if fake_noise is not None:
            inputs += (fake_noise,)
        if self.strategy is not None and batch % self.replicas:
            raise ValueError(f"batch_size ({batch}) must be a multiple of the "
                             f"{self.replicas} replicas of the distribution strategy")
        r1 = bool(self.config.r1_gamma) and \
            int(self.discriminator.optimizer.iterations.numpy()) % R1_EVERY == 0
        with quiet_first_run(self, (r1, *(np.shape(x) for x in inputs))):
            if self.strategy is None:
                logs = self._graph_step(*(tf.constant(x) for x in inputs), r1=r1)
            else:
                logs = self._graph_step(*(self._shard(x) for x in inputs), r1=r1)
            logs = {key: float(value) for key, value in logs.items()}
        if self.config.r1_gamma:
            self._last_r1 = logs.setdefault("d_r1", self._last_r1)
        return logs

    def _shard(self, array: np.ndarray):
        """Give each replica its contiguous slice of ``array`` (first axis)."""
        size = len(array) // self.replicas

        def piece(context):
            start = context.replica_id_in_sync_group * size
            return tf.constant(array[start:start + size])

        return self.strategy.experimental_distribute_values_from_function(piece)
