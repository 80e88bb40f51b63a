"""Measure what a large image folder costs: memory while decoding and training, and time.

    .venv/bin/python research/measure_large_data.py            # 50,000 images at 128 px
    .venv/bin/python research/measure_large_data.py --count 5000 --keep /tmp/big

Writes a folder of distinct PNG faces (1,000 rendered faces, each copy with its own tint),
then, each in a fresh process: decodes it with ``python -m gan_helpers prepare-data``
(the cache is a memory-mapped file), and trains the default recipe at that size for a few
steps from the cache. Prints the peak resident memory of each process next to the decoded
size and to a process that only imports gan_helpers, and the share of the training time
spent assembling batches from the memory-mapped cache (the data's epoch overhead).
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRAIN = r"""
import resource, sys, time
import numpy as np
import gan_helpers as gh
from gan_helpers.core.data import iterate_batches
from gan_helpers.core.fused import FusedStep
from gan_helpers.core.training import build_models

folder, size, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
images = gh.load_dataset(folder, size, progress=False)
config = gh.make_config(image_size=size)
generator, discriminator, gan = build_models(config, 0)
step = FusedStep(generator, discriminator, gan, config)
rng = np.random.default_rng(0)
batches = iterate_batches(images, config.batch_size, seed=0)
step(next(batches), rng=rng)  # traced once, not timed
assembling = training = 0.0
for _ in range(steps):
    start = time.perf_counter()
    real = next(batches)
    middle = time.perf_counter()
    step(real, rng=rng)
    assembling += middle - start
    training += time.perf_counter() - middle
cache_rss = 0  # resident pages of the memory-mapped cache file itself, in KiB
current = None
with open("/proc/self/smaps") as smaps:
    for line in smaps:
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5:  # a mapping's header line
            current = fields[-1] if len(fields) >= 6 else None
        elif fields[0] == "Rss:" and current and current.endswith(".npy"):
            cache_rss += int(fields[1])
print(f"RESULT {type(images).__name__} {assembling:.4f} {training:.4f} {cache_rss}")
"""


# A fresh wrapper process per measurement: RUSAGE_CHILDREN's peak is then this child's own.
WRAPPER = ("import resource, subprocess, sys\n"
           "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
           "sys.stdout.write(done.stdout); sys.stderr.write(done.stderr)\n"
           "print('PEAK_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
           "sys.exit(done.returncode)")


def peak_of(command: list[str], env: dict) -> tuple[float, float, str]:
    """Run ``command``; return (its peak resident MiB, seconds, stdout)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", WRAPPER, *command], env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    out, peak = done.stdout.rsplit("PEAK_KIB", 1)
    return int(peak) / 1024, seconds, out  # Linux reports KiB


def write_folder(folder: Path, count: int, size: int) -> None:
    import numpy as np
    from PIL import Image

    import gan_helpers as gh

    faces = gh.render_cartoon_faces(min(count, 1000), size, progress=False)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        face = faces[i % len(faces)].copy()
        face[:2, :, i % 3] = (i * 7) % 256  # each copy a distinct file
        Image.fromarray(face).save(folder / f"{i:06d}.png", compress_level=1)
        if i and i % 10000 == 0:
            print(f"  wrote {i:,} files")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20, help="training steps to time")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="large-data-"))
    folder, cache = work / "faces", work / "cache"
    env = {**os.environ, "GAN_CACHE_DIR": str(cache)}
    env.pop("GAN_QUICK", None)
    decoded_mib = args.count * args.image_size ** 2 * 3 / 2**20
    print(f"{args.count:,} images at {args.image_size} px: {decoded_mib:,.0f} MiB decoded")
    if not folder.exists():
        start = time.perf_counter()
        write_folder(folder, args.count, args.image_size)
        print(f"  folder written in {time.perf_counter() - start:.0f} s: {folder}")

    import shutil

    shutil.rmtree(cache, ignore_errors=True)  # measure the decode, not a cache hit
    python = [sys.executable]
    baseline, _, _ = peak_of(python + ["-c", "import gan_helpers"], env)
    prepare, seconds, _ = peak_of(python + ["-m", "gan_helpers", "prepare-data", "--data",
                                            str(folder), "--image-size", str(args.image_size)], env)
    print(f"import gan_helpers alone: peak {baseline:,.0f} MiB")
    print(f"prepare-data (decode {args.count:,} files in {seconds:.0f} s): peak {prepare:,.0f} MiB "
          f"= {prepare - baseline:+,.0f} MiB over the import, for {decoded_mib:,.0f} MiB of images")
    train, seconds, out = peak_of(python + ["-c", TRAIN, str(folder), str(args.image_size),
                                            str(args.steps)], env)
    kind, assembling, training, cache_kib = out.split("RESULT ")[1].split()
    assembling, training = float(assembling), float(training)
    print(f"training from the cache ({kind}, {args.steps} steps at batch 64): peak "
          f"{train:,.0f} MiB = {train - baseline:+,.0f} MiB over the import (models, optimisers "
          f"and TensorFlow's buffers); of the cache, {int(cache_kib) / 1024:,.0f} MiB are "
          f"resident after those steps")
    print(f"batch assembly {1000 * assembling / args.steps:.1f} ms per step against "
          f"{1000 * training / args.steps:.0f} ms of training: overhead "
          f"{assembling / (assembling + training):.1%} of the epoch")
    print(f"(work folder: {work}; the cache was freshly written, so it sat in the page cache)")


if __name__ == "__main__":
    main()
