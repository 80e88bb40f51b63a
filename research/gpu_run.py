"""A long run of the default recipe, and its speed, on a GPU machine without TensorFlow.

The GPU machines lent to this project's sessions hold JAX but no TensorFlow, and reach no
package index. Keras 3 runs the same ``Sequential`` models and the same classic
``train_on_batch`` step on its JAX backend, so this script trains with the package's own
``gan_helpers.train(step="classic")`` under ``KERAS_BACKEND=jax``:

1. speed: the median time of one classic iteration at each preset's own batch size, as
   ``bench`` times it, for the default preset (float32 and ``mixed_bfloat16``), the previous
   default at batch 64 (``cartoon-v4``) and the full-width DCGAN (``cartoon-v1``), in real
   images per second;
2. a run of the default preset, seed 0, on the 10,000 built-in faces, for as many epochs
   as fit in ``--minutes`` (checked after every epoch; the run is resumed once to write
   its figures, which also proves a JAX run resumes). A run folder already in
   ``--out``/run (e.g. carried back from an earlier machine) is continued.

The run folder is written as ordinary files: ``gan_helpers evaluate --run-dir`` reads it
on a CPU with TensorFlow (Keras' weights files do not depend on the backend).

    KERAS_BACKEND=jax python research/gpu_run.py --faces faces.npz --out runs/gpu --minutes 6 \
        --bundle $OUT

``--bundle`` packs the run folder into ``run.tgz.NN`` parts (the device tool brings back
a few files of at most 16 MiB each); here ``cat run.tgz.* | tar xz`` unpacks it.

``--faces`` is an ``.npz`` holding ``faces`` (uint8, N x 64 x 64 x 3), made here with
``python research/gpu_run.py --pack faces.npz`` from the built-in data set.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np


class _OutOfTime(Exception):
    pass


def pack(path: Path, count: int = 10_000) -> None:
    """Save the built-in faces (rendered or cached here) for the GPU machine."""
    from gan_helpers import load_cartoon_faces

    faces = load_cartoon_faces(count, 64)
    np.savez_compressed(path, faces=faces)
    print(f"{len(faces)} faces -> {path} ({path.stat().st_size / 2**20:.1f} MiB)")


def speed(faces: np.ndarray, steps: int) -> dict:
    """Median seconds per classic iteration -> real images per second, per variant."""
    print(f"speed, classic step, each preset's batch size, median of {steps} iterations:",
          flush=True)
    import keras

    from gan_helpers import make_config, scale_images, train_step
    from gan_helpers.core.bench import _time_steps, iteration_flops
    from gan_helpers.core.training import build_models

    results = {}
    # The earlier defaults as flag sets on today's presets (docs/recipes.md).
    cartoon_v4 = dict(beta_1=0.5, batch_size=64)
    cartoon_v1 = dict(fake_label_range=(0.0, 0.0), minibatch_std=4,
                      d_augment="color,translation,cutout")
    for key, preset, overrides, precision in (
            ("default_fp32", "cartoon", {}, "float32"),
            ("default_bf16", "cartoon", {}, "mixed_bfloat16"),
            ("batch64_fp32", "cartoon", cartoon_v4, "float32"),
            ("dcgan_full_fp32", "dcgan", cartoon_v1, "float32")):
        config = make_config(preset, precision=precision, **overrides)
        size = config.batch_size
        batch = scale_images(faces[:size])
        generator, discriminator, gan = build_models(config, seed=0)
        rng = np.random.default_rng(0)
        seconds = _time_steps(lambda b: train_step(generator, discriminator, gan, b, rng=rng,
                                                   config=config), batch, steps, warmup=5)
        flops = iteration_flops(generator, discriminator, size)
        results[key] = {"preset": preset, "filters": config.filters, "precision": precision,
                        "batch_size": size, "seconds_per_iteration": round(seconds, 5),
                        "img_s": round(size / seconds, 1),
                        "gflop_per_iteration": round(flops / 1e9, 1),
                        "tflop_s": round(flops / seconds / 1e12, 2)}
        print(f"  {key:16s} batch {size:3d} {size / seconds:8.1f} img/s  "
              f"{seconds * 1e3:6.2f} ms/iteration  "
              f"{flops / seconds / 1e12:6.2f} TFLOP/s", flush=True)
        keras.backend.clear_session()
    return results


def long_run(faces: np.ndarray, run_dir: Path, minutes: float) -> dict:
    """Train the default preset for as many whole epochs as fit in ``minutes``."""
    from gan_helpers import train

    deadline = time.monotonic() + 60 * minutes
    epoch_times: list[float] = []
    last = [time.monotonic()]
    done = [0]

    def on_epoch_end(run):
        done[0] = run.epoch
        now = time.monotonic()
        epoch_times.append(now - last[0])
        last[0] = now
        if run.epoch % 10 == 0:
            row = run.history[-1]
            print(f"  epoch {run.epoch}: step {run.step}, d_loss {row['d_loss']:.3f}, "
                  f"g_loss {row['g_loss']:.3f}, D(x) {row['d_real']:.2f}, "
                  f"D(G(z)) {row['d_fake']:.2f}", flush=True)
        typical = float(np.median(epoch_times[-5:]))
        if now + 1.5 * typical > deadline:
            raise _OutOfTime

    start = time.monotonic()
    try:
        # resume="auto": a folder that holds a checkpoint (carried back) is continued.
        train(images=faces, run_dir=run_dir, resume="auto", step="classic", epochs=100_000,
              seed=0, progress=False, on_epoch_end=on_epoch_end)
    except _OutOfTime:
        pass
    seconds = time.monotonic() - start
    # Resume at the epochs done: trains none, writes the figures (GIF, curves, grid).
    run = train(images=faces, run_dir=run_dir, resume=True, epochs=done[0],
                step="classic", progress=False)
    return {"epochs": run.epoch, "iterations": run.step, "wall_seconds": round(seconds, 1),
            "median_epoch_seconds": round(float(np.median(epoch_times)), 3)}


def bundle(run_dir: Path, out: Path, frames: int = 24, part_mib: int = 15) -> list[Path]:
    """Pack the run folder for the trip back: everything but the older checkpoint, the
    progress frames, of which about ``frames`` evenly spaced ones (and the last) are kept,
    and the GIF, which is remade here from them. Written as ``run.tgz.NN`` parts of at most ``part_mib`` MiB."""
    import io
    import tarfile

    progress = sorted((run_dir / "progress").glob("epoch_*.png"))
    latest = (run_dir / "checkpoints" / "latest").read_text().strip()
    keep = set(progress[::max(1, len(progress) // frames)] + progress[-1:])
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(run_dir.rglob("*")):
            if path.is_dir() or path.name in (".lock", "progress.gif") or (
                    path.parent.name == "progress" and path not in keep) or (
                    path.parent.parent.name == "checkpoints" and path.parent.name != latest):
                continue
            tar.add(path, arcname=str(Path(run_dir.name) / path.relative_to(run_dir)))
    data, size = buffer.getvalue(), part_mib * 2**20
    parts = []
    for index in range(0, len(data), size):
        parts.append(out / f"run.tgz.{index // size:02d}")
        parts[-1].write_bytes(data[index:index + size])
    print(f"run folder -> {len(parts)} parts, {len(data) / 2**20:.1f} MiB", flush=True)
    return parts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", type=Path, help="write the built-in faces to this .npz and stop")
    parser.add_argument("--faces", type=Path, help="the .npz written by --pack")
    parser.add_argument("--out", type=Path, default=Path("runs/gpu"))
    parser.add_argument("--minutes", type=float, default=6.0, help="training time (default 6)")
    parser.add_argument("--steps", type=int, default=50,
                        help="timed iterations per variant (0: skip the speed section)")
    parser.add_argument("--require-gpu", action="store_true", help="stop at once without a GPU")
    parser.add_argument("--bundle", type=Path, help="also pack the run folder into this folder")
    args = parser.parse_args(argv)
    if args.pack:
        pack(args.pack)
        return 0
    if args.faces is None or not args.faces.is_file():
        parser.error(f"--faces: no such file: {args.faces}")
    import keras

    faces = np.load(args.faces)["faces"]
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {"keras": keras.__version__, "backend": keras.config.backend(),
               "python": platform.python_version()}
    if summary["backend"] == "jax":
        import jax
        summary["jax"] = jax.__version__
        summary["devices"] = [str(d) for d in jax.devices()]
        summary["device_kind"] = jax.devices()[0].device_kind
    print(json.dumps(summary), flush=True)
    if args.require_gpu and summary.get("device_kind", "cpu").lower() == "cpu":
        print("no GPU visible to the Keras backend: stopping (--require-gpu)", file=sys.stderr)
        return 2
    if args.steps:
        summary["speed"] = speed(faces, args.steps)
    print(f"training the default preset for up to {args.minutes} min:", flush=True)
    summary["run"] = long_run(faces, args.out / "run", args.minutes)
    print(json.dumps(summary["run"]), flush=True)
    (args.out / "gpu_run.json").write_text(json.dumps(summary, indent=2) + "\n")
    if args.bundle:
        args.bundle.mkdir(parents=True, exist_ok=True)
        (args.bundle / "gpu_run.json").write_text(json.dumps(summary, indent=2) + "\n")
        bundle(args.out / "run", args.bundle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
