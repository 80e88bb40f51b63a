"""gan_helpers: the library behind the cartoon GAN notebooks.

Three rooms, one per folder or file:

* ``gan_helpers.core``: the lesson's core: configuration, data, the models, the combined
  GAN and one iteration, training, checkpoints, pictures, hardware.
* ``gan_helpers.evaluation``: how good a generator's faces are (``metrics``,
  ``attributes``, ``evaluate``, ``compare``); imported by module, e.g.
  ``from gan_helpers.evaluation import metrics``. The core never imports it.
* ``gan_helpers.conditional``: the conditional GAN, which draws the face you ask for.

``python -m gan_helpers`` (``gan_helpers.cli``) is the command line over all three.

The core's public names come in two groups, both importable from ``gan_helpers``:

* :data:`LIBRARY`: what a program that trains and uses a GAN needs: configuration and
  presets, data loading, the models and the combined GAN, one iteration, the training
  loop and its runs, sampling, hardware. These are kept stable.
* :data:`LESSON_HELPERS`: what the notebooks use to *show* things: weight snapshots for
  the frozen-discriminator experiments, plots and grids, diversity measures, a folder of
  broken images. Useful, but shaped by the lessons and freer to change.

Importing the package imports TensorFlow and Keras with their start-up lines kept out of
stderr; see ``gan_helpers._tf`` for everything the import does to the process.
"""
from ._tf import keras, tf  # noqa: F401  (imported first: silences TF's start-up lines)
from .core.batches import batch_plan, iterate_batches, make_dataset, scale_images, unscale_images
from .core.config import (DEFAULT_PRESET, PRESETS, QUICK, GANConfig, make_config, quick_value,
                          rng_stream, runs_dir, set_seed)
from .core.data import (default_image_count, describe_dataset, load_cartoon_faces, load_dataset,
                        load_image_file, load_image_folder, make_messy_folder,
                        render_cartoon_faces, scan_image_sizes)
from .core.distances import diversity_ratio, mean_pairwise_distance
from .core.fused import FusedStep
from .core.gan import (batch_logs, build_gan, compile_discriminator, compile_gan,
                       count_changed_weights, draw_discriminator_inputs, generate_training_mode,
                       interpolate_noise, sample_labels, sample_noise, snapshot_weights,
                       train_discriminator, train_generator, train_step)
from .core.hardware import describe_hardware, hardware_summary
from .core.models import DiffAugment, MinibatchStdDev, build_discriminator, build_generator
from .core.runs import find_preset, find_run
from .core.training import (Run, TrainingDiverged, build_models, load_run, open_run, read_history,
                            train)
from .core.viz import (make_image_grid, plot_generator_loss_gradients, plot_image_grid,
                       plot_image_rows, plot_losses, plot_minibatch_std, plot_scores,
                       save_image_grid, save_model_diagram, save_progress_gif)

__version__ = "0.1.0"

LIBRARY = [
    # TensorFlow and Keras, as imported
    "keras", "tf",
    # configuration
    "DEFAULT_PRESET", "GANConfig", "PRESETS", "QUICK", "make_config", "quick_value",
    "rng_stream", "runs_dir", "set_seed",
    # data
    "batch_plan", "default_image_count", "describe_dataset", "iterate_batches",
    "load_cartoon_faces", "load_dataset",
    "load_image_file", "load_image_folder", "make_dataset", "render_cartoon_faces", "scale_images",
    "unscale_images",
    # models, the combined GAN and one iteration
    "DiffAugment", "MinibatchStdDev", "build_discriminator", "build_gan", "build_generator",
    "compile_discriminator", "compile_gan", "generate_training_mode", "sample_labels", "sample_noise",
    "train_discriminator", "train_generator", "train_step", "FusedStep",
    # training and runs
    "Run", "TrainingDiverged", "build_models", "find_run", "load_run", "open_run", "read_history",
    "train",
    # hardware
    "describe_hardware", "hardware_summary",
]

LESSON_HELPERS = [
    "batch_logs", "count_changed_weights", "diversity_ratio", "draw_discriminator_inputs",
    "find_preset", "interpolate_noise", "make_image_grid", "make_messy_folder",
    "mean_pairwise_distance", "plot_generator_loss_gradients", "plot_image_grid",
    "plot_image_rows", "plot_losses", "plot_minibatch_std", "plot_scores", "save_image_grid",
    "save_model_diagram", "save_progress_gif", "scan_image_sizes", "snapshot_weights",
]

__all__ = LIBRARY + LESSON_HELPERS
