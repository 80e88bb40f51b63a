"""Warnings while training: a discriminator that wins, a generator loss that runs away,
samples that all look alike. Each is a pattern a person would spot in the curves later;
the monitor says it at the step it starts, so a run can be stopped early.
"""
from __future__ import annotations

import collections

import numpy as np

from .distances import diversity_ratio


class TrainingMonitor:
    """Watch the per-step logs and the fixed-noise samples; return warnings as text.

    Args:
        window: steps averaged before judging (a few bad steps are normal).
        d_wins: D(x) above ``1 - d_wins`` and D(G(z)) below ``d_wins`` on average: D tells
            real from fake almost perfectly and G's gradients vanish.
        g_loss_limit: G's mean loss above this: G is losing badly (BCE 5 = D(G(z)) ~ 0.007).
        min_spread: spread of the fixed-noise samples relative to real images (see
            :func:`gan_helpers.diversity_ratio`) below this: the generator is collapsing.
        warmup: steps before the samples are judged (an untrained generator draws the
            same grey blur for every z; that is not collapse).

    Each kind of warning is given once until the condition clears, so a long run does not
    repeat the same line every step.
    """

    def __init__(self, window: int = 50, d_wins: float = 0.05, g_loss_limit: float = 5.0,
                 min_spread: float = 0.25, warmup: int = 200):
        self.window, self.d_wins, self.warmup = window, d_wins, warmup
        self.g_loss_limit, self.min_spread = g_loss_limit, min_spread
        self._recent = collections.deque(maxlen=window)
        self._active: set[str] = set()

    def _raise_once(self, kind: str, condition: bool, message: str) -> list[str]:
        if not condition:
            self._active.discard(kind)
            return []
        if kind in self._active:
            return []
        self._active.add(kind)
        return [message]

    def update(self, step: int, logs: dict) -> list[str]:
        """Feed one step's logs (``d_real``, ``d_fake``, ``g_loss``); returns new warnings."""
        self._recent.append((logs["d_real"], logs["d_fake"], logs["g_loss"]))
        if len(self._recent) < self.window:
            return []
        d_real, d_fake, g_loss = np.mean(self._recent, axis=0)
        return (self._raise_once(
                    "d_wins", d_real > 1 - self.d_wins and d_fake < self.d_wins,
                    f"step {step}: the discriminator is winning (D(x) {d_real:.2f}, D(G(z)) "
                    f"{d_fake:.2f} over {self.window} steps); G learns little. Try d_augment, "
                    f"a lower lr_d or noisier labels.")
                + self._raise_once(
                    "g_loss", g_loss > self.g_loss_limit,
                    f"step {step}: generator loss {g_loss:.1f} over {self.window} steps and "
                    f"rising past {self.g_loss_limit:g}; training may be diverging."))

    def check_samples(self, step: int, samples, real) -> list[str]:
        """Compare the spread of generated samples with as many real images (both [-1, 1])."""
        if step < self.warmup:
            return []
        count = min(len(samples), len(real))
        spread = diversity_ratio(samples[:count], real[:count])
        return self._raise_once(
            "collapse", spread < self.min_spread,
            f"step {step}: the samples vary {spread:.2f}x as much as real images; the "
            f"generator may be collapsing to a few faces (see progress/).")
