"""gan_helpers: the library behind the cartoon GAN notebooks.

The public names come in two groups (both importable from ``gan_helpers``):

* :data:`LIBRARY`: what a program that trains and uses a GAN needs: configuration and
  presets, data loading, the models and the combined GAN, one iteration, the training
  loop and its runs, sampling, hardware. These are kept stable.
* :data:`LESSON_HELPERS`: what the notebooks use to *show* things: weight snapshots for
  the frozen-discriminator experiments, plots and grids, diversity measures, a folder of
  broken images. Useful, but shaped by the lessons and freer to change.

Modules not listed here (``metrics``, ``compare``, ``attributes``, ``conditional``,
``fused``, ``ema``, ``checkpoint``, ``bench``, ``evaluate``) are imported by name, e.g.
``from gan_helpers import metrics``.

Importing the package imports TensorFlow and Keras with their start-up lines kept out of
stderr; see ``gan_helpers._tf`` for everything the import does to the process.
"""
from ._tf import keras, tf  # noqa: F401  (imported first: silences TF's start-up lines)
from .config import (DEFAULT_PRESET, PRESETS, QUICK, GANConfig, make_config, quick_value,
                     rng_stream, runs_dir, set_seed)
from .batches import batch_plan, iterate_batches, make_dataset, scale_images, unscale_images
from .data import (load_cartoon_faces, load_dataset, load_image_folder, make_messy_folder,
                   render_cartoon_faces, scan_image_sizes)
from .gan import (build_gan, compile_discriminator, count_changed_weights,
                  generate_training_mode, interpolate_noise, sample_labels, sample_noise,
                  snapshot_weights, train_discriminator, train_generator, train_step)
from .hardware import describe_hardware, hardware_summary
from .metrics import diversity_ratio, mean_pairwise_distance
from .models import build_discriminator, build_generator
from .runs import find_preset, find_run
from .training import Run, TrainingDiverged, load_run, read_history, train
from .viz import (make_image_grid, plot_image_grid, plot_losses, plot_scores, save_image_grid,
                  save_model_diagram, save_progress_gif)

__version__ = "0.1.0"

LIBRARY = [
    # TensorFlow and Keras, as imported
    "keras", "tf",
    # configuration
    "DEFAULT_PRESET", "GANConfig", "PRESETS", "QUICK", "make_config", "quick_value",
    "rng_stream", "runs_dir", "set_seed",
    # data
    "batch_plan", "iterate_batches", "load_cartoon_faces", "load_dataset", "load_image_folder",
    "make_dataset", "render_cartoon_faces", "scale_images", "unscale_images",
    # models, the combined GAN and one iteration
    "build_discriminator", "build_gan", "build_generator", "compile_discriminator",
    "generate_training_mode", "sample_labels", "sample_noise", "train_discriminator",
    "train_generator", "train_step",
    # training and runs
    "Run", "TrainingDiverged", "find_run", "load_run", "read_history", "train",
    # hardware
    "describe_hardware", "hardware_summary",
]

LESSON_HELPERS = [
    "count_changed_weights", "diversity_ratio", "find_preset", "interpolate_noise",
    "make_image_grid", "make_messy_folder", "mean_pairwise_distance", "plot_image_grid",
    "plot_losses", "plot_scores", "save_image_grid", "save_model_diagram", "save_progress_gif",
    "scan_image_sizes", "snapshot_weights",
]

__all__ = LIBRARY + LESSON_HELPERS
