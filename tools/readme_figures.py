"""Copy a run's figures into docs/images for the README: the hero GIF, samples, curves.

    python tools/readme_figures.py runs/default

The run's own figures are redrawn first (``write_run_figures``), then ``samples.png``,
``losses.png`` and ``scores.png`` are copied and ``progress.gif`` is rebuilt small: the
first three rows of the fixed-noise grid (24 faces) after every third epoch and the last.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

import gan_helpers as gh
from gan_helpers.core.training import load_run, write_run_figures

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="the run folder, e.g. runs/default")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--every", type=int, default=3, help="keep every Nth epoch (and the last)")
    args = parser.parse_args()

    run = load_run(args.run_dir)
    write_run_figures(run)
    for name in ("samples.png", "losses.png", "scores.png"):
        shutil.copy(args.run_dir / name, args.out / name)
    frames = sorted((args.run_dir / "progress").glob("epoch_*.png"))
    if not frames:
        raise SystemExit(f"{args.run_dir / 'progress'}: no epoch_*.png grids to animate")
    keep = frames[::args.every]
    if keep[-1] != frames[-1]:
        keep.append(frames[-1])
    cell = run.config.image_size + 2  # each face plus its 2 px border in the grid
    crops = []
    for frame in keep:
        with Image.open(frame) as grid:
            crops.append(np.asarray(grid.convert("RGB").crop((0, 0, 8 * cell + 2, 3 * cell + 2))))
    gif = gh.save_progress_gif(crops, args.out / "progress.gif", duration_ms=350, hold_last_ms=2000)
    print(f"{len(keep)} of {len(frames)} epochs -> {gif} ({gif.stat().st_size / 1024:.0f} KiB); "
          f"copied samples.png, losses.png, scores.png")


if __name__ == "__main__":
    main()
