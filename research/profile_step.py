"""Where the time of one training iteration goes: a per-op profile of the fused step.

Runs a few fused steps of a preset (the default unless ``--preset``) under TensorFlow's
profiler and prints, from the profile, the share of the op time taken by each kind of
operation, by each layer of G and D (forward and backward together) and by each call of G
and D in the step (forward or backward), plus the share of
the profiled time the CPU sat idle (high when other jobs share the machine):

    python research/profile_step.py [--preset cartoon] [--steps 10] [--top 12]

TensorFlow only (it reads the profile with TensorFlow's own converter, no TensorBoard).
"""
from __future__ import annotations

import argparse
import collections
import glob
import json
import re
import tempfile


def _rows(xplane_paths):
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin as plugin
    data, ok = plugin.xspace_to_tools_data(xplane_paths, "framework_op_stats", {})
    if not ok or not data:
        raise SystemExit("TensorFlow's profiler returned no op statistics")
    table = json.loads(data)[0]
    ids = [column["id"] for column in table["cols"]]
    return [{key: (cell or {}).get("v") for key, cell in zip(ids, row["c"])}
            for row in table["rows"]]


def _scope(operation: str) -> tuple[bool, list[str]]:
    """``gradient_tape/generator_3/up_16_1/...`` -> ``(True, ["generator_3", "up_16_1", ...])``:
    whether the op belongs to a backward pass, and its name scopes."""
    parts = operation.split("/")
    backward = parts[0] == "gradient_tape"
    scopes = parts[1:] if backward else parts
    return backward, scopes or [""]


def _is_scope_of(part: str, name: str) -> bool:
    """Keras suffixes a name scope used again in one traced step: ``conv_4``, ``conv_4_1``."""
    return re.fullmatch(rf"{re.escape(name)}(_\d+)?", part) is not None


def _layer_of(operation: str, layer_names: dict[str, set[str]]) -> str:
    """``gradient_tape/discriminator_1/conv_4_1/...`` -> ``discriminator/conv_4``."""
    parts = _scope(operation)[1]
    for model, names in layer_names.items():
        if _is_scope_of(parts[0], model):
            layer = parts[1] if len(parts) > 1 else ""
            for name in names:
                if _is_scope_of(layer, name):
                    return f"{model}/{name}"
            return f"{model}/(other)"
    if _is_scope_of(parts[0].lower(), "adam"):
        return "optimisers (Adam updates)"
    return "other"


def _call_of(operation: str, models) -> str:
    """Which traced call of a model an op belongs to: ``generator_3 (backward)``.

    A model called twice in one step shows up under two name scopes (``generator_1``,
    ``generator_3``), so this tells the fakes drawn for D's step from those of G's step.
    """
    backward, parts = _scope(operation)
    if not any(_is_scope_of(parts[0], model) for model in models):
        return "other"
    return f"{parts[0]} ({'backward' if backward else 'forward'})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default=None, help="a preset name (default: the default)")
    parser.add_argument("--steps", type=int, default=10, help="profiled iterations")
    parser.add_argument("--top", type=int, default=12, help="rows per table")
    args = parser.parse_args(argv)

    import numpy as np
    import tensorflow as tf

    from gan_helpers import DEFAULT_PRESET, make_config, scale_images
    from gan_helpers.core.data import load_cartoon_faces
    from gan_helpers.core.fused import FusedStep
    from gan_helpers.core.hardware import hardware_summary
    from gan_helpers.core.training import build_models

    preset = args.preset or DEFAULT_PRESET
    config = make_config(preset)
    generator, discriminator, gan = build_models(config, seed=0)
    step = FusedStep(generator, discriminator, gan, config)
    batch = scale_images(load_cartoon_faces(config.batch_size, config.image_size))
    rng = np.random.default_rng(0)
    for _ in range(3):  # trace and warm up outside the profile
        step(batch, rng=rng)
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        for _ in range(args.steps):
            step(batch, rng=rng)
        tf.profiler.experimental.stop()
        rows = _rows(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True))

    layer_names = {model.name: {layer.name for layer in model.layers}
                   for model in (generator, discriminator)}
    by_type: collections.Counter = collections.Counter()
    by_layer: collections.Counter = collections.Counter()
    by_call: collections.Counter = collections.Counter()
    idle = 0.0
    for row in rows:
        seconds = row["total_self_time"] / 1e6
        if row["type"] == "IDLE":
            idle += seconds
            continue
        by_type[row["type"]] += seconds
        by_layer[_layer_of(row["operation"], layer_names)] += seconds
        by_call[_call_of(row["operation"], layer_names)] += seconds
    busy = sum(by_type.values())
    print(f"{hardware_summary()}; preset {preset!r}, fused step, batch {config.batch_size}, "
          f"{config.image_size} px, {args.steps} profiled iterations")
    print(f"op time {busy / args.steps:.3f} s per iteration (summed over the threads that ran "
          f"ops in parallel); idle {idle / (busy + idle):.0%} of the profiled thread time "
          f"(other jobs on the machine raise it)")
    tables = (("operation type", by_type), ("layer (forward and backward)", by_layer),
              ("model call (name scope in the traced step)", by_call))
    for title, counter in tables:
        print(f"\n  {title:<48} share of op time")
        for name, seconds in counter.most_common(args.top):
            print(f"  {name:<48} {seconds / busy:6.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
