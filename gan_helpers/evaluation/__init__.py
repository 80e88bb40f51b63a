"""How good are a generator's faces: the measures behind ``evaluate`` and ``compare``.

``metrics`` (sliced Wasserstein distance, memorisation, Fréchet and kernel distances),
``attributes`` (a small network that reads each face's hair, eyes, mouth and skin, and the
scores built on it), ``evaluate`` (the one evaluation protocol: one run, its samples against
real faces) and ``compare`` (several presets trained at the same compute, each scored by that
protocol). Documented in ``docs/evaluation.md``.

Import the modules by name: ``from gan_helpers.evaluation import metrics``.
"""
