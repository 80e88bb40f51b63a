"""Measure issue 11's levers at the CPU default's budget, many runs at once, on a GPU machine.

On a GPU the classic step is host-bound (about 1 % of an H200 is busy), so one machine can
train many small runs side by side: one process per (lever, seed), each its own Keras-on-JAX
``gan_helpers.train(step="classic")`` of the default preset with the lever's overrides, for
the default's 46 epochs (14,352 iterations of 32, the README's CPU run). Each process scores its
generator with :func:`gan_helpers.evaluation.evaluate.evaluate_generator` (``evaluate``'s protocol,
1,024 images per set, seed 0) after a quarter of the epochs (12: 3,744 iterations of 32,
notebook 07's quarter budget) and after the last, and writes ``scores.json`` into its run
folder.

    KERAS_BACKEND=jax python research/gpu_sweep.py --faces faces.npz \
        --classifier ~/.cache/gan_helpers --out runs/gpu-sweep --minutes 8 --bundle $OUT

``--faces`` is ``research/gpu_run.py --pack``'s file; ``--classifier`` a folder holding the
attribute classifier's ``attribute-classifier-v2.{json,weights.h5}`` (trained here; the GPU
machine has no DiceBear to render its training faces). Runs still going at ``--minutes``
are stopped; what they scored by then is kept. ``--bundle`` writes ``sweep.json`` (every
score), ``sweep_raw.json`` (every ``evaluate`` result), ``sweep.png`` (16 samples, the same
noise, of every scored run), ``features.npz`` (the attribute network's features of each
scored run's 1,024 samples, for scores computed back here) and the first run's generator, which
``python research/gpu_sweep.py --rescore BUNDLE NAME`` scores again here (TensorFlow) as a check.

The levers are the ``LEVERS`` table below; ``--levers a,b`` picks some of them.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

LEVERS: dict[str, dict] = {
    "default": {},
    # 2026-11-26, against the `cartoon-v3` default of that day (colour jitter and shifts):
    "noise": {"instance_noise_std": 0.1},
    "dropout": {"d_dropout": 0.25},
    "translation": {"d_augment": "translation"},  # today's default
    "ttur": {"lr_g": 2e-4},
    "fake-labels": {"fake_label_range": (0.0, 0.2)},
    "no-mbstd": {"minibatch_std": 0},
    "flip": {"label_flip_prob": 0.05},
    # 2026-11-26, against today's default (batches of 32, shifts only), for coverage:
    "sn": {"d_spectral_norm": True},
    "f64": {"filters": 64},
    "mbstd8": {"minibatch_std": 8},
    "ema": {"ema": 0.999},
    "lr2e-4": {"lr_d": 2e-4, "lr_g": 2e-4},
}


SAMPLES = 1024  # per scored run, whose classifier features come back in the bundle


def _scores(result: dict) -> dict:
    """The numbers issue 11 asks for, from an ``evaluate_generator`` result."""
    attrs = result["attributes"]
    return {"swd": round(result["swd"]["swd_mean"], 2),
            "swd_floor": round(result["swd_real_floor"]["swd_mean"], 2),
            "near_duplicates": result["near_duplicates"]["share"],
            "coverage": attrs["coverage"]["mean"], "precision": attrs["precision"],
            "recall": attrs["recall"], "fd": attrs["fd"], "diversity": result["diversity"]}


def one(name: str, seed: int, out: Path, epochs: int, only_last: bool = False) -> int:
    """Train and score one (lever, seed); runs in its own process."""
    from gan_helpers import train
    from gan_helpers.evaluation.evaluate import evaluate_generator, evaluation_reference

    run_dir = out / f"{name}-s{seed}"
    scores_path = run_dir / "scores.json"
    score_epochs = (epochs,) if only_last else (max(1, round(epochs / 4)), epochs)
    start = time.monotonic()
    scores: dict = json.loads(scores_path.read_text()) if scores_path.is_file() else {}
    reference = []  # the real side, built at the first scored epoch and kept for the next

    def on_epoch_end(run):
        if run.epoch in score_epochs and str(run.epoch) not in scores:
            t0 = time.monotonic()
            if not reference:
                reference.append(evaluation_reference("cartoon-faces", run.config.image_size))
            result = evaluate_generator(run.sampler, run.config.latent_dim, "cartoon-faces",
                                        run.config.image_size, reference=reference[0])
            scores[str(run.epoch)] = {"step": run.step, **_scores(result),
                                      "train_seconds": round(t0 - start, 1),
                                      "score_seconds": round(time.monotonic() - t0, 1),
                                      "raw": result}
            run_dir.mkdir(parents=True, exist_ok=True)
            scores_path.write_text(json.dumps(scores, indent=1, default=str) + "\n")
            _save_samples(run, run_dir)
            print(f"{name} s{seed} epoch {run.epoch}: step {run.step} SWD {scores[str(run.epoch)]['swd']}"
                  f" ({time.monotonic() - start:.0f} s)", flush=True)

    train("cartoon-faces", run_dir=run_dir, resume="auto", seed=seed, step="classic",
          progress=False, on_epoch_end=on_epoch_end, epochs=epochs, **LEVERS[name])
    return 0


def _save_samples(run, run_dir: Path) -> None:
    """The same noise vectors for every run, so the sheet compares like with like: the
    first 16 for the sheet; the attribute network's features of all 1,024 (float16) for
    scores computed back on the CPU (the images themselves are too large to carry back)."""
    from gan_helpers.evaluation.attributes import load_attribute_classifier
    from gan_helpers.core.gan import sample_noise

    samples = run.sample(sample_noise(np.random.default_rng(0), SAMPLES, run.config.latent_dim))
    np.save(run_dir / "samples16.npy", samples[:16])
    features = load_attribute_classifier(train_if_missing=False).features(samples)
    np.save(run_dir / "features.npy", features.astype(np.float16))


def rescore(folder: Path, name: str) -> dict:
    """Score a bundle's generator (``NAME.generator.weights.h5`` + ``NAME.config.json``) here,
    e.g. on a CPU with TensorFlow, to check the GPU machine's scores."""
    from gan_helpers.core.config import GANConfig
    from gan_helpers.evaluation.evaluate import evaluate_generator
    from gan_helpers.core.training import build_models

    config = GANConfig.from_dict(json.loads((folder / f"{name}.config.json").read_text())["config"])
    generator = build_models(config)[0]
    generator.load_weights(folder / f"{name}.generator.weights.h5")
    return _scores(evaluate_generator(generator, config.latent_dim, "cartoon-faces", config.image_size))


def _setup_cache(faces: Path, classifier: Path, cache: Path) -> None:
    """Put the faces and the classifier where ``gan_helpers`` looks for them."""
    from gan_helpers.evaluation.attributes import classifier_info_path, classifier_path
    from gan_helpers.core.data import cartoon_faces_cache_file

    cache.mkdir(parents=True, exist_ok=True)
    images = np.load(faces)["faces"]
    target = cartoon_faces_cache_file(len(images), images.shape[1], cache_dir=cache)
    if not target.is_file():
        np.save(target, images)
    weights = classifier_path(classifier)
    for path in (weights, classifier_info_path(weights)):
        shutil.copy(path, cache / path.name)


def _pack_features(out: Path, names: list[str], bundle: Path) -> None:
    """``features.npz``: each scored run's sample features (its last scored epoch)."""
    arrays = {name: np.load(out / name / "features.npy") for name in names
              if (out / name / "features.npy").is_file()}
    if arrays:
        np.savez_compressed(bundle / "features.npz", **arrays)
        print(f"features of {len(arrays)} runs -> {(bundle / 'features.npz').stat().st_size / 2**20:.1f} MiB",
              flush=True)


def sheet(out: Path, names: list[str], path: Path) -> None:
    """One PNG: a row of 16 samples per finished run, labelled."""
    from gan_helpers.core.viz import plot_image_grid
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, labels = [], []
    for name in names:
        file = out / name / "samples16.npy"
        if file.is_file():
            rows.append(np.load(file))
            labels.append(name)
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(16, 1.1 * len(rows)))
    plot_image_grid(np.concatenate(rows), ncols=16, row_labels=labels, ax=ax)
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--one", nargs=2, metavar=("LEVER", "SEED"), help=argparse.SUPPRESS)
    parser.add_argument("--rescore", nargs=2, metavar=("FOLDER", "NAME"),
                        help="score the generator a --bundle brought back (NAME.generator.weights.h5) "
                             "here, and stop")
    parser.add_argument("--faces", type=Path)
    parser.add_argument("--classifier", type=Path)
    parser.add_argument("--out", type=Path, default=Path("runs/gpu-sweep"))
    parser.add_argument("--levers", default=",".join(LEVERS))
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--epochs", type=int, default=46,
                        help="epochs per run (default 46, the default preset's); scored after "
                             "a quarter of them and after the last")
    parser.add_argument("--only-last", action="store_true", help="score after the last epoch only")
    parser.add_argument("--minutes", type=float, default=8.0, help="stop every run after this long")
    parser.add_argument("--bundle", type=Path, help="write sweep.json and sweep.png here")
    args = parser.parse_args(argv)
    if args.rescore:
        print(json.dumps(rescore(Path(args.rescore[0]), args.rescore[1])))
        return 0
    if args.one:
        return one(args.one[0], int(args.one[1]), args.out, args.epochs, args.only_last)
    from gan_helpers.core.checkpoint import latest_checkpoint

    levers = [name.strip() for name in args.levers.split(",") if name.strip()]
    unknown = [name for name in levers if name not in LEVERS]
    if unknown:
        parser.error(f"--levers: unknown lever {unknown[0]!r}; choose from {', '.join(LEVERS)}")
    for flag, path in (("--faces", args.faces), ("--classifier", args.classifier)):
        if path is None or not path.exists():
            parser.error(f"{flag}: no such file or folder: {path}")
    os.environ.setdefault("GAN_CACHE_DIR", str(args.out / "cache"))
    # Many processes share one GPU: none may take most of its memory up front (JAX would).
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{cores} CPU cores for the runs", flush=True)
    _setup_cache(args.faces, args.classifier, Path(os.environ["GAN_CACHE_DIR"]))
    args.out.mkdir(parents=True, exist_ok=True)
    names, jobs = [], []
    deadline = time.monotonic() + 60 * args.minutes
    for seed in (int(s) for s in args.seeds.split(",")):
        for name in levers:
            names.append(f"{name}-s{seed}")
            log = open(args.out / f"{name}-s{seed}.log", "w")
            jobs.append((names[-1], log, subprocess.Popen(
                [sys.executable, __file__, "--one", name, str(seed), "--out", str(args.out),
                 "--epochs", str(args.epochs)] + ["--only-last"] * args.only_last,
                stdout=log, stderr=subprocess.STDOUT)))
    print(f"{len(jobs)} runs started: {', '.join(names)}", flush=True)
    while time.monotonic() < deadline and any(p.poll() is None for _, _, p in jobs):
        time.sleep(5)
    status = {}
    for name, log, process in jobs:
        if process.poll() is None:
            process.terminate()
            status[name] = "stopped at --minutes"
        else:
            status[name] = "finished" if process.returncode == 0 else f"failed ({process.returncode})"
        process.wait()
        log.close()
    raw = {name: json.loads((args.out / name / "scores.json").read_text())
           for name in names if (args.out / name / "scores.json").is_file()}
    summary = {}
    for name in names:
        summary[name] = {"status": status[name], **{
            epoch: {k: v for k, v in s.items() if k != "raw"} for epoch, s in raw.get(name, {}).items()}}
        print(name, json.dumps(summary[name]), flush=True)
    (args.out / "sweep.json").write_text(json.dumps(summary, indent=1) + "\n")
    if args.bundle:
        args.bundle.mkdir(parents=True, exist_ok=True)
        shutil.copy(args.out / "sweep.json", args.bundle / "sweep.json")
        sheet(args.out, names, args.bundle / "sweep.png")
        (args.bundle / "sweep_raw.json").write_text(json.dumps(raw, default=str) + "\n")
        with open(args.bundle / "logs.txt", "w") as logs:
            for name in names:
                logs.write(f"==> {name}\n" + (args.out / f"{name}.log").read_text()[-3000:] + "\n")
        # Every scored run's sample features, for any score computed back here.
        _pack_features(args.out, names, args.bundle)
        # One generator to score again here under TensorFlow (a check of the JAX scores).
        first = args.out / names[0]
        latest = latest_checkpoint(first / "checkpoints")
        if latest is not None:
            shutil.copy(latest / "generator.weights.h5",
                        args.bundle / f"{names[0]}.generator.weights.h5")
            shutil.copy(first / "config.json", args.bundle / f"{names[0]}.config.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
