"""Compare recipes fairly: the same data, budget and seeds, SWD after every epoch.

``python -m gan_helpers compare --presets mlwhiz,dcgan,cartoon --seeds 0,1 --epochs 4``
trains one run per (preset, seed) under ``--out`` and scores each generator against the
same real images after every epoch. ``--epochs preset`` gives every preset its own
number of epochs instead: the built-in presets are sized to about the same compute
(a narrower model gets more iterations), and each run's TFLOP are recorded;
``--budget 0.25`` then trains every preset for a quarter of its own epochs, the same
smaller compute for all. After its
last epoch every run on the built-in faces is also scored by the attribute network
(coverage, precision, recall, near-duplicates; :mod:`gan_helpers.evaluation.attributes`).

The runs are ordinary run folders: an interrupted comparison continues where it stopped
(finished runs are kept, a half-trained one resumes from its checkpoint).
``results.json`` holds every number; ``swd.png`` the curves and ``samples.png`` a grid
per run, side by side.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np

from ..core import viz
from .attributes import CLASSIFIER_VERSION, near_duplicate_share
from ..core.checkpoint import check_drive_mounted, latest_checkpoint
from ..core.config import COMPARE_PRESETS, make_config, quick_value
from ..core.data import CARTOON_FACES, load_dataset
from .evaluate import evaluation_samples, reference_from_images, sample_scores, swd_scores
from ..core.files import write_text_atomic
from .metrics import SWD_PROTOCOL
from ..core.models import iteration_flops


class Scorer:
    """SWD of a generator against a fixed set of real images, with fixed noise and seed.

    The real sets, the noise and every score are ``evaluate``'s
    (:func:`gan_helpers.evaluation.evaluate.reference_from_images` and the functions beside it): the
    same generator, data, count and seed get the same numbers from ``compare`` and from
    ``python -m gan_helpers evaluate``. :meth:`final` scores a run's last samples further:
    the near-duplicate share and, with ``attributes=True`` (the built-in faces), the
    attribute network's scores.
    """

    def __init__(self, images: np.ndarray, count: int, latent_dim: int, seed: int = 0,
                 attributes: bool = False, data: str = "<array>"):
        self.protocol = reference_from_images(images, data, count, seed, attributes,
                                              blurred=False)
        self.latent_dim, self.seed = latent_dim, seed
        self.real, self.other_real = self.protocol.real_a, self.protocol.real_b
        self.floor = self.protocol.swd_floor
        self.classifier = self.protocol.classifier

    def sample(self, generator) -> np.ndarray:
        """The generator's images for the scorer's fixed noise."""
        return evaluation_samples(generator, self.latent_dim, self.protocol)

    def score(self, fake) -> dict:
        """SWD per level and mean, and the spread, of ``fake`` against the real images."""
        swd, diversity = swd_scores(self.protocol, fake)
        return {**swd, "diversity": diversity}

    def __call__(self, generator) -> dict:
        return self.score(self.sample(generator))

    def _with_version(self, near_duplicates: dict, attributes: dict | None) -> dict:
        scores = {"near_duplicates": near_duplicates}
        if attributes is not None:
            scores["attributes"] = attributes
            scores["classifier_version"] = CLASSIFIER_VERSION
        return scores

    def final(self, fake, others=None) -> dict:
        """Near-duplicates among ``fake`` (against ``others``, default the second half of the
        real images) and, with the classifier, its attribute scores against the first half."""
        scores = sample_scores(self.protocol, fake, others)
        return self._with_version(scores["near_duplicates"], scores["attributes"])

    def stale(self, final: dict | None) -> bool:
        """Whether a stored :meth:`final` was scored by another attribute classifier than
        this scorer's (so it is not comparable with this scorer's floor)."""
        return (self.classifier is not None and final is not None
                and final.get("classifier_version", 1) != CLASSIFIER_VERSION)

    def final_floor(self) -> dict:
        """:meth:`final` of the second half of the real images: what a perfect generator scores."""
        return self._with_version(near_duplicate_share(self.other_real, self.real),
                                  copy.deepcopy(self.protocol.attributes_floor))


# How the runs in a results.json were scored: with evaluate's real sets and noise
# (gan_helpers.evaluation.evaluate). Files scored before that cannot be continued: their curves would
# mix two reference sets.
SCORED_AS = "evaluate"


def compare_presets(presets=COMPARE_PRESETS, seeds=(0, 1), epochs=None,
                    out_dir="runs/compare", data: str = CARTOON_FACES,
                    num_images: int | None = None, count: int | None = None,
                    progress: bool = True, budget: float = 1.0, **overrides) -> dict:
    """Train every preset with every seed for ``epochs`` and score each after every epoch.

    Args:
        presets, seeds: the runs are their product, one folder each under ``out_dir``.
        epochs: the budget (default 4; 1 in quick mode), or ``"preset"``: each preset's own
            epochs (the built-in presets are sized to about the same compute). The presets
            must share image size and latent size; their batch sizes may differ.
        budget: with ``epochs="preset"``, the fraction of each preset's epochs to train
            (rounded, at least 1): ``0.25`` compares at a quarter of the full compute.
        data, num_images: the training data, shared by all runs.
        count: images per SWD set (default 512; 64 in quick mode).
        **overrides: settings applied to every preset (e.g. ``image_size=32``).

    Returns:
        The content of ``out_dir/results.json``: the protocol, the real-vs-real floor and,
        per run, the SWD after every epoch.
    """
    from ..core.training import train

    configs = {preset: make_config(preset, **overrides) for preset in presets}
    # One scorer for every run: the same real images and noise size. Batch sizes may differ
    # (the same epochs are then the same images and FLOPs in more or fewer iterations).
    shapes = {(c.image_size, c.latent_dim) for c in configs.values()}
    if len(shapes) != 1:
        raise ValueError("presets to compare must share image_size and latent_dim; "
                         + ", ".join(f"{p}: {(c.image_size, c.latent_dim)}"
                                     for p, c in configs.items()))
    image_size, latent_dim = shapes.pop()
    epochs = epochs or quick_value(4, 1)
    if epochs != "preset" and (not isinstance(epochs, (int, np.integer)) or epochs < 1):
        raise ValueError(f"epochs must be a positive integer or 'preset', got {epochs!r}")
    if budget != 1.0 and epochs != "preset":
        raise ValueError(f"budget={budget} scales the presets' own epochs: use it with "
                         "epochs='preset'")
    if not 0 < budget <= 1:
        raise ValueError(f"budget must be in (0, 1], got {budget}")
    out_dir = Path(out_dir)
    check_drive_mounted(out_dir)  # notebook 07 keeps its runs on Drive
    out_dir.mkdir(parents=True, exist_ok=True)
    count = count or quick_value(512, 64)
    results_path = out_dir / "results.json"
    results = read_results(results_path) if results_path.exists() else {}
    if results.get("runs") and results.get("protocol", {}).get("scored_as") != SCORED_AS:
        raise ValueError(f"{results_path} holds runs scored against another real reference set "
                         f"(before compare used evaluate's): choose another output folder, or "
                         f"delete this one to train and score its runs again")
    images = load_dataset(data, image_size, count=num_images, progress=progress)
    scorer = Scorer(images, count, latent_dim=latent_dim,
                    attributes=str(data) == CARTOON_FACES, data=str(data))
    results.update({
        "protocol": {"scored_as": SCORED_AS, "data": str(data), "num_images": len(images),
                     "epochs": epochs,
                     **({"budget": budget} if budget != 1.0 else {}),
                     "overrides": overrides,
                     "images_per_set": len(scorer.real), **SWD_PROTOCOL},
        "swd_real_floor": scorer.floor,
        "final_real_floor": scorer.final_floor(),
    })
    runs = results.setdefault("runs", {})
    for preset in presets:
        for seed in seeds:
            name = f"{preset}-seed{seed}"
            run_dir = out_dir / name
            run_epochs = (quick_value(max(1, round(configs[preset].epochs * budget)), 1)
                          if epochs == "preset" else epochs)
            record = runs.get(name)
            if record and record.get("epochs_done", 0) >= run_epochs:
                if scorer.stale(record.get("final")):
                    _rescore_final(scorer, record, run_dir, name, progress)
                    write_text_atomic(results_path, json.dumps(results, indent=1))
                continue
            resume = latest_checkpoint(run_dir / "checkpoints") is not None
            if not (resume and record):  # a run continues with the points it already has
                record = runs[name] = {"preset": preset, "seed": seed, "curve": []}

            def score(run, record=record, name=name, run_epochs=run_epochs):
                fake = scorer.sample(run.sampler)
                record["curve"].append({"epoch": run.epoch, "step": run.step, **scorer.score(fake)})
                record["epochs_done"] = run.epoch
                record["tflop"] = run.step * iteration_flops(
                    run.generator, run.discriminator, run.config.batch_size) / 1e12
                if run.epoch >= run_epochs:
                    record["final"] = scorer.final(fake)
                write_text_atomic(results_path, json.dumps(results, indent=1))
                if progress:
                    last = record["curve"][-1]
                    print(f"{name} epoch {run.epoch}: SWD {last['swd_mean']:.1f}, "
                          f"spread {last['diversity']:.2f}")

            train(data=data, preset=preset, epochs=run_epochs, seed=seed, run_dir=run_dir,
                  resume=resume, num_images=num_images, progress=progress, on_epoch_end=score,
                  **overrides)
    write_text_atomic(results_path, json.dumps(results, indent=1))
    write_comparison_figures(out_dir, results)
    return results


def read_results(path) -> dict:
    """The content of a ``results.json`` that :func:`compare_presets` wrote.

    Notebook 07 reads the committed one, ``data/compare/results.json`` (the full comparison
    its stored outputs show), to show the comparison without training anything.

    Raises:
        FileNotFoundError, ValueError: one line that names the file.
    """
    path = Path(path)
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no comparison results there (python -m gan_helpers "
                                f"compare --out FOLDER writes FOLDER/results.json)") from None
    except (ValueError, UnicodeDecodeError) as error:  # JSONDecodeError is a ValueError
        raise ValueError(f"{path} is not a comparison's results.json: {error}") from None
    if not isinstance(results, dict) or not {"protocol", "runs"} <= set(results):
        raise ValueError(f"{path} is not a comparison's results.json: it lacks 'protocol' "
                         f"or 'runs'")
    return results


def _rescore_final(scorer: Scorer, record: dict, run_dir: Path, name: str, progress: bool) -> None:
    """Score a finished run's last generator again with the scorer's classifier (its
    stored attribute scores came from an older one); the SWD curve is kept."""
    from ..core.training import load_run

    if latest_checkpoint(run_dir / "checkpoints") is None:
        print(f"{name}: attribute scores of classifier v{record['final'].get('classifier_version', 1)}"
              f" kept (no checkpoint in {run_dir} to score again)")
        return
    run = load_run(run_dir)
    record["final"] = scorer.final(scorer.sample(run.sampler))
    if progress:
        print(f"{name}: scored again with attribute classifier v{CLASSIFIER_VERSION}")


def summarize(results: dict) -> list[dict]:
    """One row per preset: final SWD mean ± spread over seeds, per level, compute, and the
    attribute scores after the last epoch (means over seeds, where measured)."""
    rows = {}
    for record in results["runs"].values():
        if not record["curve"]:
            continue
        rows.setdefault(record["preset"], []).append(record)
    table = []
    for preset, records in rows.items():
        finals = [r["curve"][-1] for r in records]
        means = np.array([f["swd_mean"] for f in finals])
        levels = [k for k in finals[0] if k.startswith("swd_") and k != "swd_mean"]
        row = {
            "preset": preset, "seeds": len(finals), "step": finals[0]["step"],
            "tflop": records[0].get("tflop"),
            "swd_mean": float(means.mean()), "swd_seed_range": float(np.ptp(means)),
            **{k: float(np.mean([f[k] for f in finals])) for k in levels},
            "diversity": float(np.mean([f["diversity"] for f in finals])),
        }
        scored = [r["final"] for r in records if "final" in r]
        if scored:
            row["near_duplicates"] = float(np.mean([f["near_duplicates"]["share"] for f in scored]))
            with_attributes = [f["attributes"] for f in scored if "attributes" in f]
            if with_attributes:
                for key in ("fd", "precision", "recall"):
                    row[key] = float(np.mean([a[key] for a in with_attributes]))
                row["coverage"] = float(np.mean([a["coverage"]["mean"] for a in with_attributes]))
        table.append(row)
    return sorted(table, key=lambda row: row["swd_mean"])


_FINAL_COLUMNS = (("near_duplicates", "dupl.", "{:.1%}"), ("coverage", "coverage", "{:.1%}"),
                  ("precision", "prec.", "{:.2f}"), ("recall", "recall", "{:.2f}"),
                  ("fd", "FD", "{:.1f}"))


def _floor_row(results: dict) -> dict:
    floor = results.get("final_real_floor") or {}
    row = {}
    if "near_duplicates" in floor:
        row["near_duplicates"] = floor["near_duplicates"]["share"]
    if "attributes" in floor:
        attributes = floor["attributes"]
        row.update(fd=attributes["fd"], precision=attributes["precision"],
                   recall=attributes["recall"], coverage=attributes["coverage"]["mean"])
    return row


def print_summary(results: dict) -> None:
    table = summarize(results)
    floor = results["swd_real_floor"]
    levels = [k for k in floor if k != "swd_mean"]
    epochs = results["protocol"]["epochs"]
    print(f"SWD x1e3 after {'each preset' + chr(39) + 's own' if epochs == 'preset' else epochs} epochs "
          f"({results['protocol']['images_per_set']} images per set; lower is better)")
    print(f"{'preset':<12}{'seeds':>6}{'step':>7}{'TFLOP':>7}"
          + "".join(f"{k[4:] + ' px':>9}" for k in levels)
          + f"{'mean':>9}{'± range':>9}{'spread':>8}"
          + "".join(f"{label:>10}" for _, label, _ in _FINAL_COLUMNS))

    def finals(row):
        return "".join(f"{fmt.format(row[key]):>10}" if key in row else f"{'':>10}"
                       for key, _, fmt in _FINAL_COLUMNS)

    for row in table:
        tflop = f"{row['tflop']:7.0f}" if row.get("tflop") is not None else f"{'':>7}"
        print(f"{row['preset']:<12}{row['seeds']:>6}{row['step']:>7}{tflop}"
              + "".join(f"{row[k]:9.1f}" for k in levels)
              + f"{row['swd_mean']:9.1f}{row['swd_seed_range'] / 2:9.1f}{row['diversity']:8.2f}"
              + finals(row))
    print(f"{'real/real':<12}{'':>6}{'':>7}{'':>7}" + "".join(f"{floor[k]:9.1f}" for k in levels)
          + f"{floor['swd_mean']:9.1f}{'':>9}{'':>8}" + finals(_floor_row(results))
          + "   (the floor)")


SEED_STYLES = ("-", "--", ":", "-.")
"""Line style of the 1st, 2nd, 3rd … seed of every preset in :func:`plot_swd_curves`."""


def _compute_axis(records) -> bool:
    """True when every run recorded its TFLOP, so the curves can be drawn against compute."""
    return bool(records) and all(r.get("tflop") and r["curve"][-1]["step"] for r in records)


def plot_swd_curves(results: dict, ax=None, x: str = "auto"):
    """SWD mean after every epoch: one colour per preset, one line style per seed.

    Args:
        results: the content of ``results.json`` (see :func:`compare_presets`).
        ax: the axes to draw on (default: a new figure).
        x: ``"tflop"`` (compute spent so far: presets of different widths line up),
            ``"step"`` (iterations), or ``"auto"``: TFLOP when every run recorded it.

    Returns:
        The axes. The legend names every preset (its colour) and every seed (its line
        style: solid for the first seed, dashed for the second, …) and the real-vs-real floor.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if x not in ("auto", "tflop", "step"):
        raise ValueError(f"x must be 'auto', 'tflop' or 'step', got {x!r}")
    records = [r for r in results["runs"].values() if r["curve"]]
    if x == "auto":
        x = "tflop" if _compute_axis(records) else "step"
    elif x == "tflop" and not _compute_axis(records):
        raise ValueError("x='tflop' needs every run's 'tflop' (results of an older compare): "
                         "use x='step'")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    presets = list(dict.fromkeys(r["preset"] for r in records))
    seeds = sorted({r["seed"] for r in records})
    colour = {preset: f"C{i}" for i, preset in enumerate(presets)}
    style = {seed: SEED_STYLES[i % len(SEED_STYLES)] for i, seed in enumerate(seeds)}
    for record in records:
        where = np.array([point["step"] for point in record["curve"]], dtype=np.float64)
        if x == "tflop":  # the run's TFLOP grew in proportion to its iterations
            where *= record["tflop"] / record["curve"][-1]["step"]
        ax.plot(where, [point["swd_mean"] for point in record["curve"]], marker="o", ms=4,
                ls=style[record["seed"]], color=colour[record["preset"]], alpha=0.85)
    floor = results["swd_real_floor"]["swd_mean"]
    ax.axhline(floor, color="grey", ls=(0, (1, 3)), lw=1)
    handles = [Line2D([], [], color=colour[p], marker="o", ms=4, label=p) for p in presets]
    handles += [Line2D([], [], color="black", ls=style[s], label=f"seed {s}") for s in seeds]
    handles.append(Line2D([], [], color="grey", ls=(0, (1, 3)), lw=1, label="real vs real"))
    ax.set(xlabel="TFLOP of training so far" if x == "tflop" else "iteration",
           ylabel="SWD mean (x1e3, lower is better)",
           title="Same data and seeds: SWD after every epoch")
    ax.legend(handles=handles, fontsize=8, ncol=2 if len(handles) > 6 else 1)
    return ax


def write_comparison_figures(out_dir, results: dict) -> None:
    """``swd.png`` (curves) and ``samples.png`` (16 fixed-noise samples per run, one row each)."""
    out_dir = Path(out_dir)
    viz.save_figure(plot_swd_curves(results).figure, out_dir / "swd.png")
    rows = []
    for name in sorted(results["runs"]):
        grid = out_dir / name / "samples.png"
        if grid.exists():
            rows.append(name)
    if rows:
        fig = comparison_grid(out_dir, rows)
        viz.save_figure(fig, out_dir / "samples.png")


def comparison_grid(out_dir, names, per_run: int = 8):
    """A figure with one row per run: its first ``per_run`` fixed-noise samples."""
    import matplotlib.pyplot as plt
    from PIL import Image

    fig, axes = plt.subplots(len(names), 1, figsize=(per_run * 0.9, len(names) * 1.05))
    axes = np.atleast_1d(axes)
    for ax, name in zip(axes, names):
        grid = np.asarray(Image.open(Path(out_dir) / name / "samples.png").convert("RGB"))
        cell = (grid.shape[1] - 2) // 8  # save_image_grid: 8 columns, 2 px padding
        ax.imshow(grid[:cell + 2, :per_run * cell + 2])
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def markdown_tables(results: dict) -> str:
    """The summary and the per-epoch SWD means as Markdown tables (for a results page)."""
    floor = results["swd_real_floor"]
    levels = [k for k in floor if k != "swd_mean"]
    table = summarize(results)
    extra = [c for c in _FINAL_COLUMNS if any(c[0] in row for row in table)]
    lines = ["| recipe | seeds | iterations | TFLOP | " + " | ".join(f"SWD {k[4:]} px" for k in levels)
             + " | SWD mean | ± half range | spread | " + "".join(f"{label} | " for _, label, _ in extra),
             "| --- | --- | --- | --- | " + " | ".join("---" for _ in levels) + " | --- | --- | --- | "
             + "".join("--- | " for _ in extra)]
    for row in table:
        tflop = f"{row['tflop']:.0f}" if row.get("tflop") is not None else ""
        lines.append(f"| `{row['preset']}` | {row['seeds']} | {row['step']:,} | {tflop} | "
                     + " | ".join(f"{row[k]:.1f}" for k in levels)
                     + f" | **{row['swd_mean']:.1f}** | {row['swd_seed_range'] / 2:.1f} | {row['diversity']:.2f} | "
                     + "".join(f"{fmt.format(row[key])} | " if key in row else " | "
                               for key, _, fmt in extra))
    floor_row = _floor_row(results)
    lines.append("| real vs real (the floor) | | | | " + " | ".join(f"{floor[k]:.1f}" for k in levels)
                 + f" | {floor['swd_mean']:.1f} | | | "
                 + "".join(f"{fmt.format(floor_row[key])} | " if key in floor_row else " | "
                           for key, _, fmt in extra))
    epochs = sorted({p["epoch"] for r in results["runs"].values() for p in r["curve"]})
    lines += ["", "| run | " + " | ".join(f"epoch {e}" for e in epochs) + " |",
              "| --- | " + " | ".join("---" for _ in epochs) + " |"]
    for name in sorted(results["runs"]):
        points = {p["epoch"]: p["swd_mean"] for p in results["runs"][name]["curve"]}
        lines.append(f"| {name} | " + " | ".join(
            f"{points[e]:.1f}" if e in points else "" for e in epochs) + " |")
    return "\n".join(lines) + "\n"
