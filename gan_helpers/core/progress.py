"""The package's one progress bar: tqdm's plain-text bar, on standard output.

The same text in a terminal and in a notebook. tqdm's notebook widget (what
``tqdm.auto`` picks in Jupyter) is not used: a saved notebook keeps only a widget's first
frame ("0%|"), never where it ended, and a static viewer cannot show it at all.
"""
from __future__ import annotations

import sys


def progress_bar(iterable=None, *, total: int | None = None, desc: str = "", unit: str = "it",
                 enabled: bool = True, initial: int = 0, leave: bool = True):
    """A ``tqdm.std.tqdm`` bar written to ``sys.stdout`` (as it is at the call).

    Wrap an ``iterable`` to count its items, or give ``total`` and call ``update``;
    ``enabled=False`` draws nothing (the iterable passes through unchanged). ``leave``:
    keep the finished bar on screen. Returns the tqdm object (``update``, ``set_postfix``,
    ``write``, ``close``, ``disable``).
    """
    from tqdm.std import tqdm

    return tqdm(iterable, total=total, initial=initial, desc=desc, unit=unit,
                disable=not enabled, leave=leave, file=sys.stdout, ncols=130, mininterval=1.0)
