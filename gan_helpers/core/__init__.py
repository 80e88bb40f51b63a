"""The lesson's core: what the notebooks teach and the ``train`` command runs.

Configuration and presets (``config``), the data (``data``, ``batches``), the DCGAN models
(``models``), the combined GAN and one iteration (``gan``, and ``fused``, the same iteration
as one compiled graph), the training loop and its run folders (``training``, ``runs``,
``checkpoint``, ``monitor``, ``ema``), pictures (``viz``), distances between images
(``distances``), the machine (``hardware``, ``bench``) and the package's one atomic write
and one progress bar (``files``, ``progress``).

The core never imports :mod:`gan_helpers.evaluation` (``tests/test_rooms.py``). Its public
names are importable from ``gan_helpers`` itself.
"""
