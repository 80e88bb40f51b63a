"""An exponential moving average (EMA) of the generator's weights, for sampling.

The generator's weights jump around from step to step as it chases the discriminator;
their running average draws smoother, more stable faces (Karras et al. 2018; Yazıcı et
al. 2019). Training is unchanged: the average is only read when sampling.
"""
from __future__ import annotations

import numpy as np

from .._tf import keras, tf


class GeneratorEMA:
    """A copy of ``generator`` whose weights follow ``decay * ema + (1 - decay) * weights``.

    Early on the decay is lowered to ``(1 + t) / (10 + t)`` after ``t`` updates, so the
    copy is not dominated by the random initial weights in short runs. BatchNorm's moving
    statistics are copied from G at every update; before the average is sampled,
    :meth:`recalibrate` replaces them with the statistics of the averaged weights
    themselves (G's statistics belong to G's weights, not to their average).

    Args:
        generator: the model being trained.
        decay: e.g. 0.999 (a memory of about 1,000 steps).
    """

    def __init__(self, generator, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay!r}")
        self.source, self.decay, self.updates = generator, float(decay), 0
        self.model = keras.models.clone_model(generator)
        self.model.set_weights(generator.get_weights())
        self._trainable = [w.trainable for w in generator.weights]
        self._assign = tf.function(self._assign_all)

    def _assign_all(self, decay):
        for average, weight, trainable in zip(self.model.weights, self.source.weights,
                                              self._trainable):
            if trainable:
                average.assign(decay * average + (1.0 - decay) * weight)
            else:
                average.assign(weight)

    def update(self) -> None:
        """Fold the generator's current weights into the average (after every step)."""
        self.updates += 1
        decay = min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        self._assign(tf.constant(decay, tf.float32))

    def recalibrate(self, count: int = 512, seed: int = 0) -> None:
        """Set the average's BatchNorm statistics to those of its own outputs.

        One training-mode pass of ``count`` fixed noise vectors through the averaged
        model, with every BatchNorm's momentum set to 0 for that call, so each moving mean
        and variance becomes exactly the statistics of this batch under the averaged
        weights. Deterministic for ``seed``; changes no trainable weight and nothing of G.
        Without BatchNorm it does nothing.
        """
        layers = [layer for layer in self.model.layers
                  if isinstance(layer, keras.layers.BatchNormalization)]
        if not layers:
            return
        latent_dim = int(self.model.input_shape[-1])
        noise = np.random.default_rng([seed, 6]).standard_normal((count, latent_dim))
        saved = [layer.momentum for layer in layers]
        try:
            for layer in layers:
                layer.momentum = 0.0
            self.model(tf.constant(noise, tf.float32), training=True)
        finally:
            for layer, momentum in zip(layers, saved):
                layer.momentum = momentum

    def state(self) -> dict[str, np.ndarray]:
        """Arrays to keep in a checkpoint."""
        arrays = {f"ema_{i:04d}": w.numpy() for i, w in enumerate(self.model.weights)}
        arrays["ema_updates"] = np.asarray(self.updates)
        return arrays

    def restore(self, arrays: dict) -> None:
        """Load :meth:`state`; without it (EMA newly switched on) start from the generator."""
        if "ema_updates" not in arrays:
            self.model.set_weights(self.source.get_weights())
            self.updates = 0
            return
        for i, weight in enumerate(self.model.weights):
            weight.assign(arrays[f"ema_{i:04d}"])
        self.updates = int(arrays["ema_updates"])
