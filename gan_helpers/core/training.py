"""The training loop: epochs, history, fixed-noise progress grids, checkpoints and resume."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from . import checkpoint as ckpt
from . import files, viz
from .config import (DEFAULT_PRESET, FIXED_ON_RESUME, QUICK, GANConfig, make_config, rng_stream,
                     set_seed, with_length)
from .batches import iterate_batches, scale_images, steps_per_epoch
from .data import CARTOON_FACES, default_image_count, describe_dataset, load_dataset
from .fused import FusedStep
from .gan import build_gan, refuse_fused_only, sample_noise, train_step
from .hardware import resolve_precision
from .models import build_discriminator, build_generator, dtype_policy
from .ema import GeneratorEMA
from .monitor import TrainingMonitor
from .progress import progress_bar

HISTORY_KEYS = ("step", "epoch", "images", "d_loss", "d_loss_real", "d_loss_fake", "g_loss",
                "d_real", "d_fake", "seconds")
FIXED_NOISE_COUNT = 64


class TrainingDiverged(RuntimeError):
    """A step produced NaN or inf; the run stopped and its last checkpoint is intact."""


@dataclasses.dataclass
class Run:
    """A run in memory: models, configuration, history and where it lives on disk."""

    generator: object
    discriminator: object
    gan: object
    config: GANConfig
    run_dir: Path
    fixed_noise: np.ndarray
    history: list = dataclasses.field(default_factory=list)
    epoch: int = 0  # completed epochs
    step: int = 0  # completed iterations
    data: str = CARTOON_FACES
    seed: int = 0
    num_images: int = 0
    warnings: list = dataclasses.field(default_factory=list)  # from the TrainingMonitor
    ema: object = None  # a GeneratorEMA when config.ema > 0
    history_saved: int = 0  # rows of ``history`` already appended to the run folder's files

    @property
    def sampler(self):
        """The model samples come from: the EMA copy of G when there is one, else G."""
        return self.ema.model if self.ema is not None else self.generator

    @property
    def checkpoint_dir(self) -> Path:
        return self.run_dir / "checkpoints"

    def sample(self, noise=None, count: int = 16) -> np.ndarray:
        """Generator images, float32 (N, S, S, C) in [-1, 1], in inference mode."""
        if noise is None:
            noise = sample_noise(np.random.default_rng(), count, self.config.latent_dim)
        return np.asarray(self.sampler(noise, training=False))

    def progress_images(self) -> tuple[np.ndarray, int]:
        """What the progress grids show: the fixed noise's images, and the grid's columns."""
        return self.sample(self.fixed_noise), 8


def new_run_dir(root="runs", name: str | None = None) -> Path:
    """A fresh folder under ``root``, named by the time unless ``name`` is given."""
    base = Path(root) / (name or time.strftime("%Y%m%d-%H%M%S"))
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def model_options(config: GANConfig, seed: int = 0) -> tuple[dict, dict]:
    """The one mapping from a :class:`GANConfig` to the models' settings.

    Returns:
        ``(generator, discriminator)``: keyword arguments of
        :func:`gan_helpers.build_generator` (after ``latent_dim, image_size``) and of
        :func:`gan_helpers.build_discriminator` (after ``image_size``). The conditional
        models take the same (:func:`gan_helpers.conditional.build_conditional_generator`
        and ``build_conditional_discriminator``).
    """
    generator = dict(filters=config.filters)
    discriminator = dict(filters=config.filters, batch_norm=config.d_batch_norm,
                         dropout=config.d_dropout, minibatch_std=config.minibatch_std,
                         augment=config.d_augment, seed=seed, spectral_norm=config.d_spectral_norm)
    return generator, discriminator


def build_models(config: GANConfig, seed: int = 0, strategy=None, label_dim: int | None = None):
    """Seed, then build G, D and the combined model for ``config``, in its precision.

    Under a ``tf.distribute`` strategy the models (and their optimisers) are created in its
    scope, with G's BatchNorm synchronised across replicas when there are several.

    Args:
        label_dim: build the conditional models instead (:mod:`gan_helpers.conditional`),
            for one-hot labels of this length: G takes ``[z, label]``, D ``[image, label]``.
            A field those models do not implement, set to anything but its neutral value,
            is refused (:func:`gan_helpers.conditional.refuse_unsupported`).

    Raises:
        ValueError: one line, naming a field the conditional models refuse and its value.
    """
    if label_dim is not None:
        from .. import conditional

        conditional.refuse_unsupported(config)
    set_seed(seed)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    synchronized = strategy is not None and strategy.num_replicas_in_sync > 1
    g_options, d_options = model_options(config, seed)
    with scope, dtype_policy(resolve_precision(config.precision)):
        if label_dim is None:
            generator = build_generator(config.latent_dim, config.image_size,
                                        synchronized_bn=synchronized, **g_options)
            discriminator = build_discriminator(config.image_size, **d_options)
            gan = build_gan(generator, discriminator, config=config)
        else:
            generator = conditional.build_conditional_generator(
                config.latent_dim, label_dim, config.image_size, synchronized_bn=synchronized,
                **g_options)
            discriminator = conditional.build_conditional_discriminator(
                config.image_size, label_dim, **d_options)
            gan = conditional.build_conditional_gan(generator, discriminator, config)
    return generator, discriminator, gan


def _history_keys(config: GANConfig) -> tuple[str, ...]:
    """``history.csv``'s columns: :data:`HISTORY_KEYS`, then ``d_r1`` (D's R1 penalty,
    logged apart from ``d_loss``) when ``config.r1_gamma`` is on."""
    return HISTORY_KEYS + (("d_r1",) if config.r1_gamma else ())


def _csv_row(row: dict, keys: tuple[str, ...]) -> str:
    return ",".join(repr(row.get(k, "")) if isinstance(row.get(k), float) else str(row.get(k, ""))
                    for k in keys)


def _append_history(run: Run) -> None:
    """Append the rows not yet on disk to ``history.jsonl`` and ``history.csv``.

    Only the new rows are written at each checkpoint, so a long run's I/O grows with its
    length, not with its square. The checkpoint records how many rows it covers; rows a
    crash left beyond that are dropped when the run resumes (:func:`_history_of`).
    """
    rows, keys = run.history[run.history_saved:], _history_keys(run.config)
    if run.history_saved == 0:
        (run.run_dir / "history.jsonl").unlink(missing_ok=True)
        files.write_text_atomic(run.run_dir / "history.csv", ",".join(keys) + "\n")
    files.append_text(run.run_dir / "history.jsonl", "".join(json.dumps(row) + "\n" for row in rows))
    files.append_text(run.run_dir / "history.csv", "".join(_csv_row(row, keys) + "\n" for row in rows))
    run.history_saved = len(run.history)


def checkpoint_history(run_dir: Path, state: dict) -> list[dict]:
    """The history a checkpoint covers: its first ``history_rows`` rows of
    ``history.jsonl`` (checkpoints written before 2026-11-25 hold the history themselves)."""
    if "history" in state:
        return state["history"]
    path = run_dir / "history.jsonl"
    rows = _read_jsonl(path) if path.exists() else []
    if len(rows) < state["history_rows"]:
        raise ValueError(f"{path} has {len(rows)} rows, its checkpoint covers "
                         f"{state['history_rows']}: the history was cut short")
    return rows[:state["history_rows"]]


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def read_history(run_dir) -> list[dict]:
    """The per-step history of a run folder, up to its last checkpoint or further."""
    run_dir = Path(run_dir)
    if (run_dir / "history.jsonl").exists():
        return _read_jsonl(run_dir / "history.jsonl")
    if (run_dir / "history.json").exists():  # runs from before 2026-11-25
        return json.loads((run_dir / "history.json").read_text(encoding="utf-8"))
    raise FileNotFoundError(f"no history in {run_dir}: has the run finished an epoch?")


def _save(run: Run, rng: np.random.Generator, step_in_epoch: int, elapsed: float) -> Path:
    _append_history(run)  # first: a checkpoint never covers rows that are not on disk
    state = {
        "epoch": run.epoch,
        "step": run.step,
        "step_in_epoch": step_in_epoch,
        "seconds": elapsed,
        "rng": rng.bit_generator.state,
        "history_rows": len(run.history),
        "config": run.config.to_dict(),
    }
    arrays = {"fixed_noise": run.fixed_noise, **_seed_states(run.discriminator)}
    if run.ema is not None:
        arrays.update(run.ema.state())
    return ckpt.save_checkpoint(run.checkpoint_dir, run.step, run.generator, run.discriminator,
                                run.gan, state, arrays)


def _seed_states(model) -> dict[str, np.ndarray]:
    """The random streams inside a model's layers (DiffAugment), keyed by layer position."""
    return {f"seed_state_{i}": layer.seed_generator.state.numpy()
            for i, layer in enumerate(model.layers) if hasattr(layer, "seed_generator")}


def _restore_seed_states(model, arrays: dict) -> None:
    for i, layer in enumerate(model.layers):
        if hasattr(layer, "seed_generator") and f"seed_state_{i}" in arrays:
            layer.seed_generator.state.assign(arrays[f"seed_state_{i}"])



def _check_resumable(saved: dict, explicit: dict) -> tuple[GANConfig, dict]:
    """Merge the saved config with explicitly given overrides.

    Returns the config and ``{field: (old, new)}`` for every value that changes.

    Raises:
        ValueError: one line, for a field in :data:`FIXED_ON_RESUME` that differs.
    """
    # Normalised (lists from JSON become tuples); a field newer than the run has its default,
    # but for the image count: from_dict reads a run saved without one as counting epochs.
    saved = GANConfig.from_dict(saved).to_dict()
    unit, other = ("images_shown", "epochs") if saved["images_shown"] else \
        ("epochs", "images_shown")
    if explicit.get(other):
        raise ValueError(f"cannot resume with {other}={explicit[other]}: this run counts its "
                         f"length in {unit} ({unit}={saved[unit]}); give {unit} instead")
    merged = GANConfig.from_dict({**saved, **explicit}).to_dict()  # normalised values
    for key in FIXED_ON_RESUME:
        if key in explicit and merged[key] != saved[key]:
            raise ValueError(
                f"cannot resume: the run was trained with {key}={saved[key]}, "
                f"not {explicit[key]}; start a new run folder instead")
    changes = {key: (saved[key], merged[key]) for key in explicit if merged[key] != saved[key]}
    return GANConfig.from_dict(merged), changes


def train(data: str = CARTOON_FACES, preset: str = DEFAULT_PRESET, *, config: GANConfig | None = None,
          image_size: int | None = None, epochs: int | None = None, batch_size: int | None = None,
          run_dir=None, resume: bool | str = False, seed: int = 0, num_images: int | None = None,
          checkpoint_minutes: float | None = None, progress: bool = True,
          images: np.ndarray | None = None, step: str = "fused", on_epoch_end=None,
          monitor: TrainingMonitor | None = None, distribute=None, repeat: int | None = None,
          **overrides) -> Run:
    """Train a DCGAN and write everything a person wants to look at into ``run_dir``.

    The run folder gets ``config.json``, ``history.csv``/``.jsonl`` (per step, appended
    at every checkpoint; ``history.json`` at the end: d_loss,
    g_loss, d_real, d_fake …), ``progress/epoch_NNNN.png`` (the fixed noise batch after
    every epoch), ``progress.gif``, ``losses.png``, ``scores.png``, ``samples.png`` and
    ``checkpoints/`` (every epoch, and every ``checkpoint_minutes`` if given).

    Args:
        data: ``"cartoon-faces"`` or a folder of images.
        preset: ``"cartoon"`` (default), the previous default ``"cartoon-v5"``, or a
            seed recipe ``"dcgan"``, ``"mlwhiz"``, ``"surma"``; see ``PRESETS``.
        config: a full :class:`GANConfig` instead of ``preset`` (ignored when resuming:
            the run's saved configuration is used, with explicit overrides).
        image_size, epochs, batch_size, **overrides: override the preset's values. A
            run's length is ``images_shown`` (the preset's by default: 460,000 for the
            default recipe, whatever the data's size) or ``epochs``, one of the two, and a
            resumed run keeps its unit; either is the run's total, also when resuming.
        run_dir: the run folder (default: a new folder under ``runs/``), or, with
            ``resume=True``, a :class:`RunFolder` already opened (:func:`read_run_folder`).
        resume: continue from the run folder's last checkpoint. ``"auto"``: continue it
            if ``run_dir`` has one, else start a new run there (what a notebook cell
            wants: running it again after a disconnect picks the run up, never deletes
            it).
        seed: seeds the weights, fixed noise, data order, labels and noise.
        num_images: images of the dataset to use (default: all, 10,000 built-in faces).
        repeat: show every image this many times per epoch. Default: in a run counted in
            images, a dataset smaller than the built-in one (a folder of 2,000 images, the
            102 ``noto-emoji`` faces) repeats until an epoch is about as long as the
            built-in one, so pictures and checkpoints come as often; in a run counted in
            epochs, 1 (see :func:`settle_length`).
        checkpoint_minutes: also checkpoint inside an epoch this often.
        progress: show progress bars.
        images: uint8 (N, S, S, 3) to train on instead of loading ``data``.
        step: ``"fused"`` (one compiled graph per iteration, the fast path) or
            ``"classic"`` (:func:`gan_helpers.train_step`, two ``train_on_batch`` calls);
            both compute the same updates, so either can resume the other's run.
        on_epoch_end: called as ``on_epoch_end(run)`` after each epoch's checkpoint
            (e.g. to score the generator); it must not change the models.
        monitor: the :class:`gan_helpers.core.monitor.TrainingMonitor` whose warnings (D
            winning, G loss running away, samples collapsing) are printed and written to
            ``warnings.txt`` (default: one with its default thresholds).
        distribute: ``"mirrored"`` (all local GPUs), ``"tpu"``, or a
            ``tf.distribute.Strategy``: the fused step runs on every replica, each with a
            slice of the batch (see :class:`gan_helpers.core.fused.FusedStep`).

    Returns:
        The :class:`Run`, with models and history in memory.

    Raises:
        FileNotFoundError: ``resume`` without a checkpoint in ``run_dir``.
        ValueError: ``resume`` of a conditional run (see
            :func:`gan_helpers.conditional.train_conditional`).
        TrainingDiverged: a step produced NaN or inf (the last checkpoint stays).
    """
    plan = plan_run(data, preset, config, run_dir, resume, seed, num_images, repeat,
                    dict(image_size=image_size, epochs=epochs, batch_size=batch_size,
                         **overrides))
    if step not in ("fused", "classic"):
        raise ValueError(f"step must be 'fused' or 'classic', got {step!r}")
    if step == "classic":  # before the data loads
        refuse_fused_only(plan.config, needs="step='fused'")

    def prepare() -> TrainingJob:
        loaded, data_label = _load_images(plan, images, progress)
        strategy = make_strategy(distribute)
        if strategy is not None and step != "fused":
            raise ValueError("distribute needs step='fused': the classic train_on_batch loop "
                             "runs on one device")
        run, rng, position = start_run(plan, data=data_label,
                                       num_images=len(loaded) * plan.repeat, strategy=strategy)
        if step == "fused":
            fused = FusedStep(run.generator, run.discriminator, run.gan, plan.config,
                              strategy=strategy)

            def one_step(real):
                return fused(real, rng=rng)
        else:
            def one_step(real):
                return train_step(run.generator, run.discriminator, run.gan, real, rng=rng,
                                  config=plan.config)
        return TrainingJob(run, loaded, rng, position, one_step)

    return run_training(plan, prepare, monitor=monitor, progress=progress,
                        checkpoint_minutes=checkpoint_minutes, on_epoch_end=on_epoch_end)


# ---------------------------------------------------------------- the stages of train()

@dataclasses.dataclass
class RunPlan:
    """What :func:`train` resolved before touching the run folder."""
    config: GANConfig
    run_dir: Path
    data: str
    seed: int
    num_images: int | None
    repeat: int | None  # None: settled by settle_length once the data are loaded
    latest: Path | None  # the checkpoint to resume from, or None for a new run
    folder: "RunFolder | None" = None  # the run folder opened to resume, or None
    quick_length: bool = False  # quick mode shortens the run to two epochs


@dataclasses.dataclass
class TrainingJob:
    """A run ready to train: what :func:`run_training` needs from its ``prepare`` stage.

    ``batches(epoch, skip_batches)`` yields what ``one_step`` takes, one item per
    iteration (default: :func:`gan_helpers.iterate_batches` over ``images``, as the run's
    seed, batch size, flips and repeats say). ``meta`` goes into ``config.json`` too.
    """
    run: Run
    images: np.ndarray  # uint8 (N, S, S, C): the unique training images
    rng: np.random.Generator
    position: tuple  # (step_in_epoch, elapsed_seconds) to continue from
    one_step: object  # batch -> logs of one iteration
    batches: object = None
    what: str = "DCGAN"  # named in the first line printed
    meta: dict = dataclasses.field(default_factory=dict)


def run_training(plan: RunPlan, prepare, *, monitor=None, progress: bool = True,
                 checkpoint_minutes: float | None = None, on_epoch_end=None) -> Run:
    """Lock the run folder, ``prepare()`` the :class:`TrainingJob`, train it to its epochs
    and draw its figures. Should it fail before anything is written, no folder is left."""
    run_dir = plan.run_dir
    created = not run_dir.exists()
    ckpt.check_writable(run_dir, needed_bytes=0)  # the disk space is checked once models exist
    lock = ckpt.RunLock(run_dir).acquire()  # a second process on this folder stops here
    try:
        job = prepare()
        run = job.run
        _write_run_files(run, plan, len(job.images), job.meta)
        if progress:
            config = plan.config
            steps = steps_per_epoch(run.num_images, config.batch_size)
            shown = f", each shown {plan.repeat} times per epoch" if plan.repeat > 1 else ""
            budget = (f" ({config.epochs * steps * config.batch_size:,} images shown)"
                      if config.images_shown else "")
            print(f"Training {config.image_size} px {job.what} on {len(job.images)} images "
                  f"({run.data}){shown}, {steps} steps/epoch, epochs {run.epoch + 1}-"
                  f"{config.epochs}{budget} -> {run_dir}")
        seconds = _epoch_loop(job, plan, monitor=monitor or TrainingMonitor(), progress=progress,
                              checkpoint_minutes=checkpoint_minutes, on_epoch_end=on_epoch_end)
        write_run_figures(run)
        if progress:
            print(f"Done: {run.step} iterations in {seconds:.0f} s. Pictures in {run_dir}")
        return run
    except BaseException:
        if created and [p.name for p in run_dir.iterdir()] == [".lock"]:
            lock.release()
            shutil.rmtree(run_dir, ignore_errors=True)  # nothing was trained: leave no folder
        raise
    finally:
        lock.release()


def plan_run(data, preset, config, run_dir, resume, seed, num_images, repeat, given: dict,
             conditional: bool = False) -> RunPlan:
    """Resolve the configuration: a new run's from the preset (or ``config``) and the given
    values, a resumed run's from its folder with the given values changing what may change.
    The run's length is settled once the data are loaded (:func:`settle_length`).

    ``run_dir`` may be a :class:`RunFolder` already opened (with ``resume=True``): its
    ``config.json`` is not read again. ``conditional``: the run to resume must be a
    conditional one (:mod:`gan_helpers.conditional`), else a plain one.
    """
    explicit = {k: v for k, v in given.items() if v is not None}
    length_given = "epochs" in explicit or "images_shown" in explicit
    if explicit.get("precision") == "auto":
        explicit["precision"] = resolve_precision("auto")
    folder = None
    if isinstance(run_dir, RunFolder):
        if resume is not True:
            raise ValueError(f"an opened run folder is resumed: pass resume=True, got {resume!r}")
        folder, run_dir = run_dir, run_dir.run_dir
    run_dir = Path(run_dir) if run_dir is not None else None
    latest = None
    if resume == "auto":
        if run_dir is None:
            raise ValueError("resume='auto' needs run_dir: the folder to continue or start")
        latest = ckpt.latest_checkpoint(run_dir / "checkpoints")
        resume = latest is not None
    elif resume not in (True, False):
        raise ValueError(f"resume must be True, False or 'auto', got {resume!r}")
    if resume:
        if run_dir is None:
            raise ValueError("resume needs run_dir: the folder of the run to continue")
        folder = folder or read_run_folder(run_dir, resume=True, latest=latest)
        folder.require(conditional, "resume")
        meta = folder.meta
        config, changes = _check_resumable(meta["config"], explicit)
        for key, (old, new) in changes.items():
            print(f"resuming {run_dir} with {key}={new} (was {old})")
        return RunPlan(config, run_dir, meta["data"], meta["seed"], meta["num_images"],
                       meta.get("repeat", 1), folder.latest, folder)
    if config is None:
        config = make_config(preset, **explicit)
    else:  # a copy: the caller's config stays as it was
        config = GANConfig.from_dict(with_length(config.to_dict(), explicit))
    config.precision = resolve_precision(config.precision)  # the run records the choice
    run_dir = run_dir or new_run_dir()
    if (run_dir / "checkpoints" / ckpt.LATEST).exists():
        if ckpt.latest_checkpoint(run_dir / "checkpoints") is None:
            raise ValueError(f"{run_dir} holds checkpoints but none is whole (files missing "
                             f"or cut short, e.g. a copy to Drive that never finished): "
                             f"delete {run_dir / 'checkpoints'} to start again, or choose "
                             f"another run folder")
        raise ValueError(f"{run_dir} already holds a run: pass resume=True (--resume) "
                         f"to continue it, or choose another run folder")
    return RunPlan(config, run_dir, data, seed, num_images, repeat, None,
                   quick_length=QUICK and not length_given)


def settle_length(plan: RunPlan, unique_images: int) -> None:
    """Fix what the loaded data decide, in ``plan``: a new run's repeats and, for a run
    counted in images shown, its epochs.

    A run counted in images (``config.images_shown``) on a dataset smaller than the built-in
    one (:func:`gan_helpers.default_image_count`) shows it ``ceil(built-in / size)`` times
    per epoch unless ``repeat`` was given, so an epoch of 102 emoji is about as long as an
    epoch of the built-in faces and the pictures and checkpoints come as often; it trains
    the whole number of epochs that shows closest to ``config.images_shown``, at least one.
    A run counted in epochs passes over its data once per epoch (``repeat`` 1 unless given).
    Quick mode (``GAN_QUICK=1``) shortens a run whose length was not given to two epochs,
    whichever its unit.
    """
    config = plan.config
    if plan.repeat is None:
        plan.repeat = max(1, math.ceil(default_image_count() / unique_images)) \
            if config.images_shown else 1
    if not isinstance(plan.repeat, (int, np.integer)) or plan.repeat < 1:
        raise ValueError(f"repeat must be a positive integer, got {plan.repeat!r}")
    per_epoch = steps_per_epoch(unique_images * plan.repeat, config.batch_size) * config.batch_size
    if plan.quick_length:
        if config.images_shown:
            config.images_shown = 2 * per_epoch
        else:
            config.epochs = 2
        plan.quick_length = False
    if config.images_shown and per_epoch:
        config.epochs = max(1, round(config.images_shown / per_epoch))


def _load_images(plan: RunPlan, images, progress: bool) -> tuple[np.ndarray, str]:
    """The training images (loaded from ``plan.data`` unless given) and their label."""
    config = plan.config
    if images is None:
        images = load_dataset(plan.data, config.image_size, count=plan.num_images,
                              progress=progress)
        label = str(plan.data)
        if plan.folder is None:  # a new run: what the data gave, and whether it is enough
            line, warning = describe_dataset(plan.data, images, plan.num_images)
            if progress:
                print(line)
            if warning:
                print(f"warning: {warning}")
    else:
        label = "<array>"
    if images.shape[1] != config.image_size:
        raise ValueError(f"images are {images.shape[1]} px but image_size is {config.image_size}")
    # A small dataset: every epoch shows each image `repeat` times (the batch plan repeats
    # indices, never the pixels).
    settle_length(plan, len(images))
    if len(images) * plan.repeat < config.batch_size:
        raise ValueError(f"the dataset has {len(images) * plan.repeat} images, fewer than one "
                         f"batch ({config.batch_size}); lower batch_size or use repeat")
    return images, label


def make_run(config: GANConfig, run_dir, seed: int, *, data: str, num_images: int,
             conditions: dict | None = None, strategy=None) -> Run:
    """A run with new models (:func:`build_models`) and its fixed noise, not yet trained.

    Args:
        conditions: a conditional run's attributes and their values, in label order (as
            ``config.json`` records them): the models are conditional and the run a
            :class:`gan_helpers.conditional.ConditionalRun`. None: a plain :class:`Run`.
        data, num_images: what the run trains on (images per epoch).
    """
    latent_dim = config.latent_dim
    if conditions is None:
        generator, discriminator, gan = build_models(config, seed, strategy=strategy)
        fixed_noise = sample_noise(rng_stream(seed, "fixed_noise"), FIXED_NOISE_COUNT, latent_dim)
        return Run(generator, discriminator, gan, config, Path(run_dir), fixed_noise, data=data,
                   seed=seed, num_images=num_images,
                   ema=GeneratorEMA(generator, config.ema) if config.ema else None)
    from ..conditional import GRID_COLUMNS, ConditionalRun

    label_dim = sum(len(options) for options in conditions.values())
    generator, discriminator, gan = build_models(config, seed, strategy=strategy,
                                                 label_dim=label_dim)
    fixed_noise = sample_noise(rng_stream(seed, "fixed_noise"), GRID_COLUMNS, latent_dim)
    return ConditionalRun(generator, discriminator, gan, config, Path(run_dir), fixed_noise,
                          data=data, seed=seed, num_images=num_images, values=conditions)


def start_run(plan: RunPlan, *, data: str, num_images: int, conditions: dict | None = None,
              strategy=None):
    """The run :func:`run_training` trains: a new one (:func:`make_run`), or the one
    ``plan`` resumes, opened from its folder (:func:`open_run`'s way) with its history,
    counters and random stream as its checkpoint left them.

    Args:
        data, num_images: as for :func:`make_run`.
        conditions: a new conditional run's attributes and values (a resumed run has its own).

    Returns:
        ``(run, rng, (step_in_epoch, elapsed_seconds))``.
    """
    rng = rng_stream(plan.seed, "training")
    if plan.folder is None:
        run = make_run(plan.config, plan.run_dir, plan.seed, data=data, num_images=num_images,
                       conditions=conditions, strategy=strategy)
        return run, rng, (0, 0.0)
    run, state = _open(plan.folder, plan.config, data=data, num_images=num_images,
                       strategy=strategy)
    _rewrite_history(run)  # drops rows a crash left beyond the checkpoint
    run.config.epochs = max(run.config.epochs, run.epoch)  # fewer than done: train none, keep all
    rng.bit_generator.state = state["rng"]
    return run, rng, (state["step_in_epoch"], state["seconds"])


def _open(folder: "RunFolder", config: GANConfig, *, data: str, num_images: int,
          strategy=None) -> tuple[Run, dict]:
    """Build the models ``folder`` holds (conditional when its ``config.json`` says so) for
    ``config``, and load its newest whole checkpoint into them: weights, optimisers, fixed
    noise, D's random streams, the EMA, history and counters.

    Returns:
        ``(run, state)``: the run and the checkpoint's ``state.json``.
    """
    run = make_run(config, folder.run_dir, folder.seed, data=data, num_images=num_images,
                   conditions=folder.conditions, strategy=strategy)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        state, arrays = ckpt.load_checkpoint(folder.latest, run.generator, run.discriminator,
                                             run.gan)
    run.fixed_noise = arrays["fixed_noise"]
    _restore_seed_states(run.discriminator, arrays)
    if run.ema is not None:
        run.ema.restore(arrays)
    run.history = checkpoint_history(folder.run_dir, state)
    run.epoch, run.step = state["epoch"], state["step"]
    return run, state


def _rewrite_history(run: Run) -> None:
    """Write the history files afresh with exactly ``run.history`` (once, on resume)."""
    ckpt.write_text_atomic(run.run_dir / "history.jsonl",
                           "".join(json.dumps(row) + "\n" for row in run.history))
    keys = _history_keys(run.config)
    ckpt.write_text_atomic(run.run_dir / "history.csv", "\n".join(
        [",".join(keys)] + [_csv_row(row, keys) for row in run.history]) + "\n")
    run.history_saved = len(run.history)


def _write_run_files(run: Run, plan: RunPlan, unique_images: int, meta: dict | None = None) -> None:
    """Check the disk, then write ``config.json`` (with ``meta``) and ``fixed_noise.npy``."""
    ckpt.check_writable(run.run_dir, needed_bytes=(ckpt.KEEP + 1) * ckpt.checkpoint_bytes(
        run.generator, run.discriminator) + 20 * 2**20)  # two kept, one being written, pictures
    (run.run_dir / "progress").mkdir(exist_ok=True)
    ckpt.write_text_atomic(run.run_dir / "config.json", json.dumps(
        {"config": run.config.to_dict(), "data": run.data, "seed": plan.seed,
         "num_images": unique_images, "repeat": plan.repeat, **(meta or {})},
        indent=2))
    with files.atomic_write(run.run_dir / "fixed_noise.npy") as handle:
        np.save(handle, run.fixed_noise)


def _epoch_loop(job: TrainingJob, plan: RunPlan, *, monitor, progress, checkpoint_minutes,
                on_epoch_end) -> float:
    """Train until ``run.config.epochs``; after every epoch draw the grid, check the samples,
    checkpoint and call ``on_epoch_end``. Returns the run's training seconds."""
    run, images, one_step, rng = job.run, job.images, job.one_step, job.rng
    config = run.config
    steps = steps_per_epoch(run.num_images, config.batch_size)
    step_in_epoch, elapsed = job.position
    real_reference = scale_images(images[:FIXED_NOISE_COUNT])
    start = time.perf_counter() - elapsed
    last_save = time.perf_counter()
    while run.epoch < config.epochs:
        if job.batches is not None:
            batches = job.batches(run.epoch, step_in_epoch)
        else:
            batches = iterate_batches(images, config.batch_size, shuffle=True,
                                      flip=config.flip_images, seed=plan.seed, epoch=run.epoch,
                                      skip_batches=step_in_epoch, repeat=plan.repeat)
        bar = progress_bar(total=steps, initial=step_in_epoch, unit="step", enabled=progress,
                           desc=f"epoch {run.epoch + 1}/{config.epochs}")
        for real in batches:
            logs = one_step(real)
            if not all(math.isfinite(v) for v in logs.values()):
                bar.close()
                _diverged(run, logs)
            if run.ema is not None:
                run.ema.update()
            run.step += 1
            step_in_epoch += 1
            shown = run.step * config.batch_size  # images shown so far: history and bar
            run.history.append({"step": run.step, "epoch": run.epoch + 1,
                                "images": shown, **logs,
                                "seconds": round(time.perf_counter() - start, 3)})
            _warn(run, monitor.update(run.step, logs), bar)
            bar.update(1)
            bar.set_postfix({"images": f"{shown:,}",  # in this order
                             "d_loss": f"{logs['d_loss']:.3f}", "g_loss": f"{logs['g_loss']:.3f}",
                             "D_x": f"{logs['d_real']:.2f}", "D_G_z": f"{logs['d_fake']:.2f}"},
                            refresh=False)
            if checkpoint_minutes and time.perf_counter() - last_save > 60 * checkpoint_minutes \
                    and step_in_epoch < steps:
                _save(run, rng, step_in_epoch, time.perf_counter() - start)
                last_save = time.perf_counter()
        bar.close()
        run.epoch += 1
        step_in_epoch = 0
        if run.ema is not None:  # the average's own BatchNorm statistics, for sampling
            run.ema.recalibrate(seed=plan.seed)
        samples, ncols = run.progress_images()
        viz.save_image_grid(samples, run.run_dir / "progress" / f"epoch_{run.epoch:04d}.png",
                            ncols=ncols)
        _warn(run, monitor.check_samples(run.step, samples, real_reference), bar)
        _save(run, rng, 0, time.perf_counter() - start)
        if on_epoch_end is not None:  # its time is not training time
            paused = time.perf_counter()
            on_epoch_end(run)
            start += time.perf_counter() - paused
        last_save = time.perf_counter()
    return time.perf_counter() - start


def _diverged(run: Run, logs: dict):
    """Raise :class:`TrainingDiverged` naming the bad values and the last good checkpoint."""
    last = ckpt.latest_checkpoint(run.checkpoint_dir)
    where = f"{last} (step {last.name[5:].lstrip('0') or 0})" if last else "none yet"
    bad = ", ".join(f"{k}={v}" for k, v in logs.items() if not math.isfinite(v))
    raise TrainingDiverged(
        f"step {run.step + 1} produced {bad}; training stopped. Last good checkpoint: "
        f"{where}. Resume with lower learning rates (--resume --lr-d ... --lr-g ...), or "
        f"start a new run.")


def make_strategy(distribute):
    """A ``tf.distribute`` strategy from a name, or the strategy itself, or None.

    ``"mirrored"``: every local GPU (MirroredStrategy); ``"tpu"``: the Colab/Cloud TPU
    (TPUStrategy); ``None`` or ``"none"``: no strategy, one device.
    """
    from .._tf import tf

    if distribute is None or distribute == "none":
        return None
    if isinstance(distribute, tf.distribute.Strategy):
        return distribute
    if distribute == "mirrored":
        return tf.distribute.MirroredStrategy()
    if distribute == "tpu":
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, RuntimeError) as error:
            raise ValueError(f"distribute='tpu' but no TPU was found: {error}") from None
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"distribute must be 'mirrored', 'tpu', 'none' or a tf.distribute.Strategy, "
                     f"got {distribute!r}")


def _warn(run: Run, messages: list[str], bar) -> None:
    """Show monitor warnings above the progress bar and append them to ``warnings.txt``."""
    for message in messages:
        run.warnings.append(message)
        if not bar.disable:
            bar.write(f"warning: {message}", file=sys.stdout)
        files.append_text(run.run_dir / "warnings.txt", message + "\n")


def write_run_figures(run: Run) -> None:
    """Write the GIF of the progress grids, the loss and score curves, a final grid and
    ``history.json`` (the whole history in one file)."""
    ckpt.write_text_atomic(run.run_dir / "history.json", json.dumps(run.history))
    frames = sorted((run.run_dir / "progress").glob("epoch_*.png"))
    if frames:
        viz.save_progress_gif(frames, run.run_dir / "progress.gif")
    if run.history:
        steps = steps_per_epoch(run.num_images, run.config.batch_size)
        viz.save_figure(viz.plot_losses(run.history, steps_per_epoch=steps).figure,
                        run.run_dir / "losses.png")
        viz.save_figure(viz.plot_scores(run.history, steps_per_epoch=steps).figure,
                        run.run_dir / "scores.png")
    samples, ncols = run.progress_images()
    viz.save_image_grid(samples, run.run_dir / "samples.png", ncols=ncols)


@dataclasses.dataclass(frozen=True)
class RunFolder:
    """A trained run folder, opened: its ``config.json`` (read once) and its newest whole
    checkpoint (:func:`gan_helpers.core.checkpoint.latest_checkpoint`)."""

    run_dir: Path
    meta: dict  # config.json: "config", "data", "seed", "num_images", "repeat", ["conditions"]
    latest: Path

    @property
    def conditions(self) -> dict | None:
        """A conditional run's attributes and their values in label order; None: a plain run."""
        return self.meta.get("conditions")

    @property
    def seed(self) -> int:
        return self.meta["seed"]

    @property
    def config(self) -> GANConfig:
        """The saved configuration (a field newer than the run has its default)."""
        return GANConfig.from_dict(self.meta["config"])

    def require(self, conditional: bool, action: str = "load") -> None:
        """Raise ValueError unless the folder holds a conditional run (``conditional``
        true) or a plain one (false): one line naming the folder and the function that can
        ``action`` (``"load"`` or ``"resume"``) what it holds."""
        if (self.conditions is not None) == bool(conditional):
            return
        how = {("load", True): "load it with gan_helpers.conditional.load_conditional_run",
               ("load", False): "load it with gan_helpers.load_run",
               ("resume", True): "resume it with gan_helpers.conditional.train_conditional "
                                 "(train --resume finds it by itself)",
               ("resume", False): "resume it with gan_helpers.train (train without "
                                  "--conditional)"}[action, self.conditions is not None]
        kind = "a conditional" if self.conditions is not None else "an unconditional"
        raise ValueError(f"{self.run_dir} holds {kind} run: {how}")


RUN_FOLDER_KEYS = ("config", "data", "seed", "num_images")  # what config.json must hold


def read_run_folder(run_dir, *, resume: bool = False, latest: Path | None = None) -> RunFolder:
    """Open a trained run folder, building nothing: find its newest whole checkpoint and
    read its ``config.json`` (once).

    Args:
        resume: errors begin "cannot resume: ".
        latest: the newest whole checkpoint, when the caller has just looked for it.

    Raises:
        FileNotFoundError: no such folder, no whole checkpoint in it, or no
            ``config.json``; one line naming the folder.
        ValueError: the folder is on an unmounted Google Drive, or its ``config.json`` is
            cut short or not a run's.
    """
    run_dir = Path(run_dir)
    ckpt.check_drive_mounted(run_dir)  # before "not found": the folder is there, Drive is not
    cannot = "cannot resume: " if resume else ""
    if not run_dir.is_dir():
        raise FileNotFoundError(f"{cannot}run folder not found: {run_dir}")
    latest = latest or ckpt.latest_checkpoint(run_dir / "checkpoints")
    if latest is None:
        raise FileNotFoundError(f"cannot resume: no complete checkpoint in {run_dir / 'checkpoints'}"
                                if resume else f"no complete checkpoint in {run_dir}: train it first")
    path = run_dir / "config.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{cannot}{run_dir} has checkpoints but no config.json (a copy "
                                f"that never finished?): copy the whole run folder") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{cannot}{path} is cut short or not JSON ({error}): a copy that "
                         f"never finished?") from None
    missing = [key for key in RUN_FOLDER_KEYS if not isinstance(meta, dict) or key not in meta]
    if missing:
        raise ValueError(f"{cannot}{path} is not a run's: it has no {missing[0]!r}")
    return RunFolder(run_dir, meta, latest)


def open_run(run_dir, conditional: bool | None = None) -> Run:
    """Open any trained run folder, plain or conditional, to sample or measure.

    Reads ``config.json`` once, finds the newest whole checkpoint, builds the models its
    configuration says (:func:`make_run`: conditional when it records ``"conditions"``) and
    loads the checkpoint into them.

    Args:
        run_dir: the run folder, or a :class:`RunFolder` already opened
            (:func:`read_run_folder`), so ``config.json`` is read once.
        conditional: True: the folder must hold a conditional run; False: a plain one;
            None: either.

    Returns:
        A :class:`Run`, or a :class:`gan_helpers.conditional.ConditionalRun`.

    Raises:
        FileNotFoundError, ValueError: see :func:`read_run_folder`; ValueError too for a
            run of the other kind than ``conditional`` asks for.
    """
    folder = run_dir if isinstance(run_dir, RunFolder) else read_run_folder(run_dir)
    if conditional is not None:
        folder.require(conditional, "load")
    meta = folder.meta
    run, _ = _open(folder, folder.config, data=meta["data"],
                   num_images=meta["num_images"] * meta.get("repeat", 1))
    if run.ema is not None:
        # A checkpoint written inside an epoch holds G's statistics: sample with the average's own.
        run.ema.recalibrate(seed=run.seed)
    return run


def load_run(run_dir) -> Run:
    """Rebuild a (plain) run's models from its last checkpoint, for sampling or evaluation:
    :func:`open_run` with ``conditional=False``."""
    return open_run(run_dir, conditional=False)
