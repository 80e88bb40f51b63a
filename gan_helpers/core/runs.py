"""Find a run an earlier step made, and say which recipe it was trained with.

A notebook that needs a trained run (notebook 06 needs notebook 05's)
looks through a few run folders in order and reuses the first one with a checkpoint;
only when there is none does it train a small run itself.
"""
from __future__ import annotations

from pathlib import Path

from .config import PRESETS, GANConfig, make_config

# Settings that change how long or how fast a run trains, not the recipe it follows.
NOT_RECIPE = ("images_shown", "epochs", "precision")


def find_run(candidates) -> Path | None:
    """The first run folder that holds a complete checkpoint, finished or resumable.

    Args:
        candidates: run folders (str or Path) in order of preference; missing folders,
            folders without ``checkpoints/`` and ``None`` entries are skipped.

    Returns:
        The first folder that :func:`gan_helpers.core.training.read_run_folder`, the one
        opener of run folders, can open: a complete checkpoint (see
        :func:`gan_helpers.core.checkpoint.latest_checkpoint`) and a whole ``config.json``,
        so that :func:`gan_helpers.open_run` can load it; None when no candidate has one.
    """
    from .training import read_run_folder

    if isinstance(candidates, (str, Path)):
        raise ValueError("find_run needs a list of run folders, e.g. [Path('runs/default')], "
                         f"got the single path {str(candidates)!r}")
    for candidate in candidates:
        if candidate is None:
            continue
        try:
            return read_run_folder(candidate).run_dir
        except (FileNotFoundError, ValueError):
            continue
    return None


def find_preset(config: GANConfig, ignore=NOT_RECIPE) -> str | None:
    """The name of the preset a configuration follows, or None for a custom recipe.

    Args:
        config: a run's :class:`GANConfig` (e.g. ``load_run(...).config``).
        ignore: settings that may differ from the preset's (by default the run's
            length, in images shown or epochs, and the compute precision: a shorter run
            of ``cartoon`` is still ``cartoon``).

    Returns:
        The first name in ``PRESETS`` whose every other setting equals ``config``'s.
    """
    values = {k: v for k, v in config.to_dict().items() if k not in ignore}
    for name in PRESETS:
        preset = {k: v for k, v in make_config(name).to_dict().items() if k not in ignore}
        if preset == values:
            return name
    return None
