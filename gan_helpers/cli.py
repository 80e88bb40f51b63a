"""The command line: ``python -m gan_helpers train | sample | prepare-data``.

Errors a user can fix (unknown dataset, bad size, missing run folder) print one line
and exit with status 2, without a traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_USAGE = 2


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _epochs_or_preset(text: str):
    if text == "preset":
        return text
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or 'preset', got {text!r}") from None


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _label_range(text: str) -> tuple[float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) not in (1, 2):
        raise argparse.ArgumentTypeError(f"expected LO,HI or one value, got {text!r}")
    return (values[0], values[-1])


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or a positive integer, got {text!r}")
    return value


def _attribute_names(text: str) -> tuple[str, ...]:
    from .conditional import parse_attributes

    try:
        return parse_attributes(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def config_flag(field: str) -> str:
    """The flag of a :class:`GANConfig` field: ``lr_d`` is ``--lr-d``."""
    return "--" + field.replace("_", "-")


def _add_config_flags(parser) -> None:
    """One flag per :class:`GANConfig` field, grouped, with the field's own description.

    Every default is None: the preset's value (or, on ``--resume``, the run's) is kept
    unless a flag is given.
    """
    import dataclasses

    from .core.config import (CONFIG_GROUPS, PRECISIONS, SUPPORTED_IMAGE_SIZES, GANConfig,
                         config_field_help)

    helps = config_field_help()
    types = {f.name: str(f.type) for f in dataclasses.fields(GANConfig)}
    for title, fields in CONFIG_GROUPS.items():
        group = parser.add_argument_group(title)
        for name in fields:
            text = (helps[name].replace('``"', '"').replace('"``', '"').replace("``", "'")
                    .replace("%", "%%"))
            kind = types[name]
            options: dict = {"dest": name, "default": None, "help": text}
            if name == "image_size":
                options.update(type=int, choices=SUPPORTED_IMAGE_SIZES)
            elif name == "precision":
                options.update(choices=PRECISIONS)
            elif kind == "bool":
                options.update(action=argparse.BooleanOptionalAction)
            elif kind == "int":
                options.update(type=_non_negative_int if name == "minibatch_std" else _positive_int)
            elif kind == "float":
                options.update(type=float)
            elif kind.startswith("tuple"):
                options.update(type=_label_range, metavar="LO,HI")
            group.add_argument(config_flag(name), **options)


def config_overrides(args) -> dict:
    """The :class:`GANConfig` values given on the command line (the others are None)."""
    import dataclasses

    from .core.config import GANConfig

    return {f.name: getattr(args, f.name) for f in dataclasses.fields(GANConfig)
            if getattr(args, f.name, None) is not None}


def build_parser() -> argparse.ArgumentParser:
    from .core.config import COMPARE_PRESETS, DEFAULT_PRESET, PRESETS, SUPPORTED_IMAGE_SIZES

    parser = _OneLineParser(prog="python -m gan_helpers",
                            description="Train a DCGAN that draws cartoon faces.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)

    train = sub.add_parser("train", help="train a GAN (or --resume one)")
    train.add_argument("--data",
                       help="'cartoon-faces' (built in), 'noto-emoji' (needs Debian's "
                            "fonts-noto-color-emoji), a folder of images or a zip of them "
                            "(default: cartoon-faces)")
    train.add_argument("--preset", choices=sorted(PRESETS),
                       help=f"recipe (default: {DEFAULT_PRESET}); the flags below override "
                            "its values")
    train.add_argument("--num-images", type=_positive_int,
                       help="use only this many images (default: all; 10,000 built-in faces)")
    train.add_argument("--repeat", type=_positive_int,
                       help="show each image this many times per epoch (default: a dataset "
                            "smaller than the built-in faces repeats until an epoch is about as "
                            "long as theirs; with --epochs, 1)")
    train.add_argument("--run-dir", type=Path, help="run folder (default: a new one under runs/)")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --run-dir: its data, seed and settings are "
                            "kept; the flags below marked 'may change' change them")
    train.add_argument("--seed", type=int, help="seeds weights, noise and data order (default 0)")
    train.add_argument("--checkpoint-minutes", type=_positive_float,
                       help="also checkpoint inside an epoch this often")
    train.add_argument("--no-progress", action="store_true", help="no progress bars")
    _add_config_flags(train)
    train.add_argument("--distribute", choices=("none", "mirrored", "tpu"), default="none",
                       help="mirrored: split each batch over all local GPUs; tpu: a Colab TPU")
    train.add_argument("--step", choices=("fused", "classic"),
                       help="fused: one compiled graph per iteration (default); classic: the "
                            "two train_on_batch calls the notebooks teach (same updates)")
    train.add_argument("--conditional", type=_attribute_names, metavar="ATTRS",
                       help="train a conditional GAN that draws the attributes you ask for: "
                            "comma-separated, from hair_colour, skin, glasses (built-in faces "
                            "rendered with known attributes; classic step; notebook 08)")

    sample = sub.add_parser("sample", help="draw a grid of faces from a trained run")
    sample.add_argument("--run-dir", type=Path, required=True)
    sample.add_argument("--count", type=_positive_int, default=64)
    sample.add_argument("--out", type=Path, required=True, help="PNG file to write")
    sample.add_argument("--seed", type=int, default=None, help="noise seed (default: random)")

    prepare = sub.add_parser("prepare-data", help="render or decode a dataset into the cache")
    prepare.add_argument("--data", default="cartoon-faces")
    prepare.add_argument("--image-size", type=int, default=64)
    prepare.add_argument("--num-images", type=_positive_int)
    prepare.add_argument("--preview", type=Path, help="also write a PNG grid of the first 64")
    prepare.add_argument("--export", type=Path, help="also write every image as a PNG into this folder")
    evaluate = sub.add_parser("evaluate", help="score a run's samples against real images (SWD)")
    evaluate.add_argument("--run-dir", type=Path, required=True)
    evaluate.add_argument("--data", help="dataset or folder (default: the run's own data)")
    evaluate.add_argument("--count", type=_positive_int, help="images per set (default 1024)")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--inception-weights",
                          help="InceptionV3 (no top) weights file, or 'imagenet' to download "
                               "them (Colab), for KID and FID")
    evaluate.add_argument("--pairs", type=Path,
                          help="write a PNG of the samples closest to training images, with them")
    evaluate.add_argument("--json", action="store_true", help="end with one line of JSON")

    attributes = sub.add_parser(
        "attributes", help="train the attribute classifier that evaluate uses on the built-in "
                           "faces (cached; done on first use otherwise)")
    attributes.add_argument("--count", type=_positive_int,
                            help="labelled faces to render (default 16,000)")
    attributes.add_argument("--epochs", type=_positive_int, help="default 6")
    attributes.add_argument("--retrain", action="store_true",
                            help="train again even if a cached classifier exists")
    attributes.add_argument("--no-progress", action="store_true", help="no progress bars")

    compare = sub.add_parser("compare", help="train presets with the same budget and seeds, "
                                             "SWD after every epoch")
    compare.add_argument("--presets", default=",".join(COMPARE_PRESETS),
                         help=f"comma-separated presets (default: {','.join(COMPARE_PRESETS)}: "
                              "the seed recipes, the previous default and the default)")
    compare.add_argument("--seeds", default="0,1", help="comma-separated seeds (default: 0,1)")
    compare.add_argument("--epochs", type=_epochs_or_preset,
                         help="budget per run (default 4), or 'preset': each preset's own "
                              "epochs (the presets are sized to about the same compute)")
    compare.add_argument("--budget", type=_positive_float, default=1.0,
                         help="with --epochs preset: the fraction of each preset's epochs "
                              "(e.g. 0.25 for a quarter of the compute; default 1)")
    compare.add_argument("--num-images", type=_positive_int, help="default: all")
    compare.add_argument("--count", type=_positive_int, help="images per SWD set (default 512)")
    compare.add_argument("--out", type=Path, default=Path("runs/compare"),
                         help="folder of the runs and results (default: runs/compare)")
    compare.add_argument("--no-progress", action="store_true", help="no progress bars")

    bench = sub.add_parser("bench", help="measure training speed on this machine")
    bench.add_argument("--preset", default=DEFAULT_PRESET, choices=sorted(PRESETS),
                       help=f"whose models to time (default: {DEFAULT_PRESET})")
    bench.add_argument("--image-size", type=int, choices=SUPPORTED_IMAGE_SIZES, default=64)
    bench.add_argument("--batch-size", type=_positive_int,
                       help="images per step (default: the preset's)")
    bench.add_argument("--steps", type=_positive_int, default=None,
                       help="timed iterations per variant (default 30; 3 in quick mode)")
    bench.add_argument("--json", action="store_true", help="end with one line of JSON")
    return parser


def _evaluate(args) -> int:
    from .evaluation.evaluate import evaluate_run, print_report

    print_report(evaluate_run(args.run_dir, data=args.data, count=args.count, seed=args.seed,
                              pairs_path=args.pairs, inception_weights=args.inception_weights),
                 as_json=args.json)
    return 0


def _compare(args) -> int:
    from .evaluation.compare import compare_presets, print_summary
    from .core.config import make_config

    presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--seeds must be comma-separated integers, got {args.seeds!r}") from None
    if not presets or not seeds:
        raise ValueError("--presets and --seeds need at least one value each")
    for preset in presets:
        make_config(preset)  # an unknown preset fails before any training starts
    results = compare_presets(presets, seeds, epochs=args.epochs, out_dir=args.out,
                              num_images=args.num_images, count=args.count,
                              progress=not args.no_progress, budget=args.budget)
    print_summary(results)
    print(f"curves: {args.out / 'swd.png'}; samples: {args.out / 'samples.png'}")
    return 0


def _attributes(args) -> int:
    from .evaluation.attributes import (attribute_values, classifier_path, load_attribute_classifier,
                             train_attribute_classifier)

    path = classifier_path()
    if args.retrain or not path.exists():
        classifier = train_attribute_classifier(count=args.count, epochs=args.epochs,
                                                progress=not args.no_progress, save_to=path)
    else:
        classifier = load_attribute_classifier(train_if_missing=False)
    print(f"attribute classifier: {path}")
    print(f"  {'attribute':<12}{'values':>7}{'chance':>8}{'held-out accuracy':>19}"
          f"{'blurred 1 px':>14}")
    for name, values in attribute_values().items():
        shown = [f"{a[name]:.1%}" if name in a else "unknown"
                 for a in (classifier.accuracy, classifier.accuracy_blurred)]
        print(f"  {name:<12}{len(values):7d}{1 / len(values):8.1%}{shown[0]:>19}{shown[1]:>14}")
    return 0


def _bench(args) -> int:
    from .core.bench import run_benchmark

    run_benchmark(image_size=args.image_size, batch_size=args.batch_size, steps=args.steps,
                  as_json=args.json, preset=args.preset)
    return 0


def _train(args) -> int:
    from .core.config import DEFAULT_PRESET
    from .core.training import read_run_folder, train

    overrides = config_overrides(args)
    folder = None
    if args.resume:  # the run's data and settings are kept; only what was given changes
        if args.run_dir is None:
            raise ValueError("--resume needs --run-dir: the folder of the run to continue")
        # Opened once here: train reads neither config.json nor the checkpoints' list again.
        folder = read_run_folder(args.run_dir, resume=True)
        meta = folder.meta
        given = {"--data": (args.data, meta.get("data")), "--seed": (args.seed, meta.get("seed")),
                 "--num-images": (args.num_images, meta.get("num_images")),
                 "--repeat": (args.repeat, meta.get("repeat", 1))}
        for flag, (value, saved) in given.items():
            if value is not None and str(value) != str(saved):
                raise ValueError(f"cannot resume with {flag} {value}: the run in "
                                 f"{args.run_dir} was made with {saved}; start a new run "
                                 f"folder to change it")
        if args.preset is not None:
            raise ValueError("cannot resume with --preset: the run keeps its settings; "
                             "change single values with their flags (e.g. --lr-d)")
    if args.conditional is not None or (folder is not None and folder.conditions is not None):
        return _train_conditional(args, overrides, folder)
    run_options = dict(progress=not args.no_progress, checkpoint_minutes=args.checkpoint_minutes,
                       step=args.step or "fused", distribute=args.distribute)
    if args.resume:
        run = train(run_dir=folder, resume=True, **run_options, **overrides)
    else:
        run = train(data=args.data or "cartoon-faces", preset=args.preset or DEFAULT_PRESET,
                    run_dir=args.run_dir, seed=args.seed if args.seed is not None else 0,
                    num_images=args.num_images, repeat=args.repeat, **run_options, **overrides)
    if run.data != "cartoon-faces":  # your own images: did the run copy them, or repeat itself?
        from .evaluation.evaluate import evaluate_run, verdict_lines

        print(f"Checking the samples against {run.data} (python -m gan_helpers evaluate "
              f"--run-dir {run.run_dir} tells more):")
        for line in verdict_lines(evaluate_run(run.run_dir, attributes=False)):
            print(f"  {line}")
    return 0


def _train_conditional(args, overrides: dict, folder=None) -> int:
    """``train --conditional ATTRS``, or ``--resume`` of a conditional run (``folder``, opened)."""
    from .core.config import DEFAULT_PRESET
    from .conditional import train_conditional

    if args.step == "fused" or args.distribute != "none":
        raise ValueError("--step fused and --distribute do not apply to a conditional run: "
                         "it trains with the classic step, on one device")
    if not args.resume and (args.data is not None or args.repeat is not None):
        raise ValueError("--data and --repeat do not apply to a conditional run: it trains on "
                         "the built-in faces rendered with known attributes")
    options = dict(progress=not args.no_progress, checkpoint_minutes=args.checkpoint_minutes)
    if args.resume:
        train_conditional(args.conditional, run_dir=folder, resume=True, **options,
                          **overrides)
    else:
        train_conditional(args.conditional, preset=args.preset or DEFAULT_PRESET,
                          run_dir=args.run_dir, seed=args.seed if args.seed is not None else 0,
                          num_images=args.num_images, **options, **overrides)
    return 0


def _sample(args) -> int:
    import numpy as np

    from .core.gan import sample_noise
    from .core.training import open_run
    from .core.viz import save_image_grid

    run = open_run(args.run_dir)  # plain, or conditional: faces for random attributes
    noise = sample_noise(np.random.default_rng(args.seed), args.count, run.config.latent_dim)
    path = save_image_grid(run.sample(noise), args.out)
    print(f"wrote {args.count} samples from {args.run_dir} (step {run.step}) to {path}")
    return 0


def _prepare(args) -> int:
    from .core.data import describe_dataset, export_images, load_dataset
    from .core.viz import save_image_grid

    images = load_dataset(args.data, args.image_size, count=args.num_images)
    print(f"{args.data}: {len(images)} images of {args.image_size} px ready")
    line, warning = describe_dataset(args.data, images, args.num_images)
    print(line)  # what train will say before it starts
    if warning:
        print(f"warning: {warning}")
    if args.preview:
        save_image_grid(images[:64], args.preview, ncols=8)
        print(f"preview: {args.preview}")
    if args.export:
        export_images(images, args.export)
        print(f"exported {len(images)} PNG files to {args.export}")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from .core.checkpoint import RunInUse
        from .core.training import TrainingDiverged

        handler = {"train": _train, "sample": _sample, "prepare-data": _prepare,
                   "bench": _bench, "evaluate": _evaluate, "compare": _compare,
                   "attributes": _attributes}[args.command]
        return handler(args)
    except (ValueError, OSError, TrainingDiverged, RunInUse) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"python -m gan_helpers {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted: continue with --resume --run-dir RUN", file=sys.stderr)
        return 130
