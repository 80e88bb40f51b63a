"""What does the default recipe give on a folder of hand-drawn images it was not tuned on?

Two steps, both offline (npm's registry and Debian's packages are reachable; nothing else):

1. Make a folder of OpenMoji's colour emoji (4,495 drawings, CC BY-SA 4.0), rendered by
   resvg at 128 px on white from the npm package's SVGs::

       npm pack openmoji@17.0.0 && tar xzf openmoji-17.0.0.tgz package/color/svg
       python research/own_folders.py render package/color/svg /tmp/sets/openmoji

   The Noto emoji faces are built in (``--data noto-emoji``; ``apt-get install
   fonts-noto-color-emoji``).

2. Train each set with no flag but ``--data`` (``python -m gan_helpers train --data
   /tmp/sets/openmoji --run-dir runs/own/openmoji``) and with the seed recipe at the same
   budget (``--preset dcgan --images-shown 460000 --precision mixed_bfloat16 --run-dir
   runs/own/openmoji-dcgan``), score each with ``python -m gan_helpers evaluate --run-dir
   ... --pairs ...``, and draw the figure docs/results.md shows, real images above the
   samples of each run (runs on the same data in a row share their row of real images)::

       python research/own_folders.py figure --out docs/images/own-folders.png \\
           "Noto emoji, 102 faces=runs/own/noto" "Noto emoji=runs/own/noto-dcgan" \\
           "OpenMoji, 4,495 emoji=runs/own/openmoji" "OpenMoji=runs/own/openmoji-dcgan"

Where the answer is: docs/results.md, "Your own folder".
"""
from __future__ import annotations

import argparse
import io
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

SIDE = 128  # drawn at this size; the loader scales to the run's


def render(svg_dir: Path, out_dir: Path) -> int:
    """Render every ``*.svg`` in ``svg_dir`` to a PNG on white in ``out_dir``; returns the count."""
    import resvg_py
    from PIL import Image

    svgs = sorted(Path(svg_dir).glob("*.svg"))
    if not svgs:
        raise SystemExit(f"no .svg files in {svg_dir}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    def one(path: Path) -> None:
        png = bytes(resvg_py.svg_to_bytes(svg_path=str(path), width=SIDE, height=SIDE,
                                          skip_system_fonts=True))
        with Image.open(io.BytesIO(png)) as image:
            canvas = Image.new("RGBA", image.size, "white")
            canvas.alpha_composite(image.convert("RGBA"))
            canvas.convert("RGB").save(out_dir / f"{path.stem}.png")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, svgs))
    return len(svgs)


def figure(runs: list[tuple[str, Path]], out: Path, count: int = 12, seed: int = 0) -> None:
    """For each (title, run folder): a row of its training images (once for runs on the
    same data in a row) and a row of its samples, titled with its preset and images shown."""
    import matplotlib

    matplotlib.use("Agg")
    import gan_helpers as gh

    rows, labels, last = [], [], None
    for title, run_dir in runs:
        run = gh.load_run(run_dir)
        if run.data != last:
            real = gh.load_dataset(run.data, run.config.image_size, progress=False)
            picks = np.random.default_rng(seed).choice(len(real), size=count, replace=False)
            rows.append(np.asarray(real)[np.sort(picks)])
            labels.append(f"{title}: training images")
            last = run.data
        noise = gh.sample_noise(np.random.default_rng(seed), count, run.config.latent_dim)
        rows.append(run.sample(noise))
        shown = run.step * run.config.batch_size
        labels.append(f"{gh.find_preset(run.config) or 'custom'}: samples after {shown:,} "
                      f"images shown")
    axes = gh.plot_image_rows(rows, labels, figsize=(count * 0.9, 1.25 * len(rows)))
    axes[0].figure.savefig(out, dpi=80, bbox_inches="tight")
    print(f"wrote {out}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("render", help="render a folder of SVGs to PNGs on white")
    r.add_argument("svg_dir", type=Path)
    r.add_argument("out_dir", type=Path)
    f = sub.add_parser("figure", help="training images above samples, one pair of rows per run")
    f.add_argument("runs", nargs="+", help='"TITLE=RUN_DIR"')
    f.add_argument("--out", type=Path, required=True)
    f.add_argument("--count", type=int, default=12)
    args = parser.parse_args(argv)
    if args.command == "render":
        print(f"rendered {render(args.svg_dir, args.out_dir)} images into {args.out_dir}")
    else:
        pairs = []
        for item in args.runs:
            title, sep, run_dir = item.rpartition("=")
            if not sep:
                parser.error(f"expected TITLE=RUN_DIR, got {item!r}")
            pairs.append((title, Path(run_dir)))
        figure(pairs, args.out, args.count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
