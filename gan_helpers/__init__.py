"""gan_helpers: the library behind the cartoon GAN notebooks.

Importing it starts TensorFlow quietly (see ``gan_helpers._tf``).
"""
from ._tf import keras, tf  # noqa: F401  (imported first: silences TF's start-up lines)
from .config import (DEFAULT_PRESET, PRESETS, QUICK, GANConfig, make_config, quick_value,
                     set_seed)
from .data import (batch_plan, iterate_batches, load_cartoon_faces, load_dataset,
                   load_image_folder, make_dataset, make_messy_folder, render_cartoon_faces,
                   scale_images, scan_image_sizes, unscale_images)
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

__all__ = [
    "keras",
    "tf",
    "DEFAULT_PRESET",
    "GANConfig",
    "PRESETS",
    "QUICK",
    "Run",
    "TrainingDiverged",
    "batch_plan",
    "build_discriminator",
    "build_gan",
    "build_generator",
    "compile_discriminator",
    "count_changed_weights",
    "describe_hardware",
    "diversity_ratio",
    "generate_training_mode",
    "hardware_summary",
    "interpolate_noise",
    "iterate_batches",
    "load_cartoon_faces",
    "load_dataset",
    "load_image_folder",
    "load_run",
    "make_config",
    "make_dataset",
    "make_image_grid",
    "make_messy_folder",
    "mean_pairwise_distance",
    "plot_image_grid",
    "plot_losses",
    "plot_scores",
    "quick_value",
    "read_history",
    "render_cartoon_faces",
    "sample_labels",
    "sample_noise",
    "save_image_grid",
    "save_model_diagram",
    "save_progress_gif",
    "scale_images",
    "scan_image_sizes",
    "set_seed",
    "snapshot_weights",
    "train",
    "train_discriminator",
    "train_generator",
    "train_step",
    "unscale_images",
]
