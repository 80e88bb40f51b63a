"""The conditional GAN: models, the frozen D with labels, a run with resume, obedience.

Tiny models at 32 px on a few dozen labelled faces (rendered once per session into the
session's cache folder); the attribute classifier is the session's quick one (see
tests/test_attributes.py), so the obedience assertions leave wide margins.
"""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

import gan_helpers as gh
from gan_helpers.evaluation import attributes as attr
from gan_helpers import cli, conditional as cond

TINY = dict(image_size=32, filters=8, latent_dim=16, batch_size=8)
VALUES = cond.condition_values(("hair_colour", "skin"))  # 4 + 4 values
LABEL_DIM = 8


def _config(**overrides):
    return gh.make_config("cartoon", **{**TINY, "d_augment": "translation", **overrides})


def _models(seed=0, **overrides):
    return cond.build_conditional_models(_config(**overrides), LABEL_DIM, seed=seed)


def _batch(count=8, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (count, 32, 32, 3)).astype(np.float32)
    labels = {name: rng.integers(0, len(v), count) for name, v in VALUES.items()}
    return images, cond.encode_conditions(labels, VALUES)


def test_labels_are_one_hot_blocks_and_every_combination_is_listed():
    onehot = cond.encode_conditions({"hair_colour": np.array([0, 3]), "skin": np.array([2, 2])},
                                    VALUES)
    assert onehot.shape == (2, LABEL_DIM) and onehot.dtype == np.float32
    assert onehot.tolist() == [[1, 0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 1, 0, 0, 1, 0]]
    rows = cond.every_combination(VALUES)
    assert len(rows["hair_colour"]) == 16
    assert len(set(zip(rows["hair_colour"], rows["skin"]))) == 16
    full = cond.to_attribute_labels({"hair_colour": np.array([1]), "skin": np.array([3])}, VALUES)
    every = attr.attribute_values()
    assert every["hair_colour"][full["hair_colour"][0]] == VALUES["hair_colour"][1]
    assert every["skin"][full["skin"][0]] == VALUES["skin"][3]


def test_a_run_asks_for_values_by_name_value_or_index(tmp_path):
    run = cond.ConditionalRun(*_models(), _config(), tmp_path, np.zeros((8, 16), np.float32),
                              values=VALUES)
    labels = run.labels_for(3, hair_colour="green", skin="763900")
    assert labels["hair_colour"].tolist() == [2, 2, 2] and labels["skin"].tolist() == [3, 3, 3]
    assert run.labels_for(2, hair_colour=1)["hair_colour"].tolist() == [1, 1]
    assert set(run.labels_for(50)["skin"]) <= {0, 1, 2, 3}  # not chosen: drawn at random
    with pytest.raises(ValueError, match="hair_colour must be one of black, blonde, green, pink"):
        run.labels_for(1, hair_colour="purple")
    with pytest.raises(ValueError, match="not glasses"):
        run.labels_for(1, glasses="none")
    assert cond.describe_value("hair_colour", "3eac2c") == "green hair"
    assert run.sample(count=4).shape == (4, 32, 32, 3)


def test_unknown_or_repeated_attributes_and_colour_augmentation_are_refused():
    with pytest.raises(ValueError, match="cannot condition on 'nose'; choose from hair_colour"):
        cond.parse_attributes("hair_colour,nose")
    with pytest.raises(ValueError, match="repeat"):
        cond.parse_attributes(["skin", "skin"])
    with pytest.raises(ValueError, match="'color' changes the hair and skin colours"):
        cond.build_conditional_discriminator(32, LABEL_DIM, 8, augment="color,translation")
    with pytest.raises(ValueError, match="ema is not supported for conditional runs"):
        cond.build_conditional_models(gh.make_config(image_size=32, ema=0.999), LABEL_DIM)


def test_conditional_models_have_the_right_shapes_and_sequential_bodies():
    generator, discriminator, gan = _models()
    images, conditions = _batch(8)
    z = gh.sample_noise(np.random.default_rng(0), 8, 16)
    fakes = np.asarray(generator([z, conditions], training=False))
    assert fakes.shape == (8, 32, 32, 3) and fakes.min() >= -1 and fakes.max() <= 1
    scores = np.asarray(discriminator([images, conditions]))
    assert scores.shape == (8, 1) and ((scores > 0) & (scores < 1)).all()
    assert np.asarray(gan([z, conditions])).shape == (8, 1)
    # The DCGAN bodies stay Sequential: G's takes z and the label joined, D's 3 + 8 channels.
    g_body, d_body = generator.get_layer("generator"), discriminator.get_layer("discriminator")
    assert isinstance(g_body, gh.keras.Sequential) and isinstance(d_body, gh.keras.Sequential)
    assert g_body.input_shape == (None, 16 + LABEL_DIM)
    assert d_body.input_shape == (None, 32, 32, 3 + LABEL_DIM)


def test_the_label_changes_what_g_draws_and_what_d_says():
    generator, discriminator, _ = _models()
    images, _ = _batch(4)
    z = gh.sample_noise(np.random.default_rng(1), 4, 16)
    first = cond.encode_conditions({"hair_colour": np.zeros(4, int), "skin": np.zeros(4, int)},
                                   VALUES)
    other = cond.encode_conditions({"hair_colour": np.full(4, 2), "skin": np.full(4, 3)}, VALUES)
    drawn = [np.asarray(generator([z, c], training=False)) for c in (first, other)]
    judged = [np.asarray(discriminator([images, c])) for c in (first, other)]
    assert np.abs(drawn[0] - drawn[1]).max() > 1e-4  # same z, other label, other face
    assert np.abs(judged[0] - judged[1]).max() > 1e-6  # same image, other label, other score


def _check_frozen_iteration(generator, discriminator, gan, rng, batch=8):
    images, conditions = _batch(batch, seed=int(rng.integers(1000)))
    d_before, g_before = gh.snapshot_weights(discriminator), gh.snapshot_weights(generator)
    gh.train_discriminator(generator, discriminator, images, rng=rng, conditions=conditions)
    changed, total = gh.count_changed_weights(d_before, discriminator)
    assert changed == total, "D must update every weight in its own step"
    assert gh.count_changed_weights(g_before, generator, trainable_only=True)[0] == 0

    d_before, g_before = gh.snapshot_weights(discriminator), gh.snapshot_weights(generator)
    gh.train_generator(generator, discriminator, gan, batch, rng=rng, conditions=conditions)
    changed, _ = gh.count_changed_weights(d_before, discriminator)
    assert changed == 0, "D must stay frozen in G's step"
    changed, total = gh.count_changed_weights(g_before, generator, trainable_only=True)
    assert changed == total, "G must update every weight in its step"


@pytest.mark.parametrize("g_first", [False, True], ids=["d_traced_first", "g_traced_first"])
def test_d_learns_in_its_step_and_stays_frozen_in_g_step(g_first):
    # minibatch_std 4 and DiffAugment, as a conditional run uses them.
    generator, discriminator, gan = _models(minibatch_std=4)
    rng = np.random.default_rng(0)
    if g_first:
        gh.train_generator(generator, discriminator, gan, 8, rng=rng, conditions=_batch(8)[1])
    for batch in (8, 8, 12):  # a new batch size retraces both train functions
        _check_frozen_iteration(generator, discriminator, gan, rng, batch)


def _train(run_dir, epochs, **kwargs):
    return cond.train_conditional("hair_colour,skin", run_dir=run_dir, epochs=epochs,
                                  num_images=32, progress=False, **{**TINY, **kwargs})


def _without_time(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def test_a_run_draws_one_row_per_combination_and_resumes_as_if_never_stopped(tmp_path):
    whole = _train(tmp_path / "whole", epochs=2)
    assert whole.step == 8 and whole.epoch == 2  # 32 faces / 8 = 4 steps per epoch
    assert whole.config.d_augment == "translation"  # the preset's, without colour
    meta = json.loads((whole.run_dir / "config.json").read_text())
    assert meta["conditions"] == VALUES and meta["data"] == cond.LABELLED_FACES
    grid = gh.make_image_grid(whole.condition_grid(), ncols=cond.GRID_COLUMNS)
    assert grid.shape[:2] == (16 * 34 + 2, 8 * 34 + 2)  # 16 combinations x 8 fixed z
    with Image.open(whole.run_dir / "progress" / "epoch_0002.png") as picture:
        assert picture.size == (8 * 34 + 2, 16 * 34 + 2)
    assert len(whole.row_titles()) == 16 and whole.row_titles()[0] == "black hair, light skin"

    part = _train(tmp_path / "part", epochs=1)
    resumed = cond.train_conditional(run_dir=tmp_path / "part", resume=True, epochs=2,
                                     progress=False)
    assert resumed.values == VALUES and resumed.step == 8
    assert np.array_equal(resumed.fixed_noise, part.fixed_noise)
    # Same batches with the same labels, noise and optimiser state as the run never stopped.
    assert len(resumed.history) == len(whole.history) == 8
    for row, same in zip(_without_time(resumed.history), _without_time(whole.history)):
        assert row == pytest.approx(same, rel=1e-4, abs=1e-6)
    for a, b in zip(resumed.generator.get_weights(), whole.generator.get_weights()):
        assert np.allclose(a, b, atol=1e-5)
    loaded = cond.load_conditional_run(tmp_path / "part")
    assert loaded.step == 8 and np.allclose(loaded.condition_grid(), resumed.condition_grid(),
                                            atol=1e-5)
    with pytest.raises(ValueError, match="conditioned on hair_colour,skin, not skin"):
        cond.train_conditional("skin", run_dir=tmp_path / "part", resume=True, progress=False)


def test_a_new_run_trains_in_batches_of_64_unless_told(tmp_path):
    # The default preset's batches of 32 obeyed the labels less in notebook 08's run.
    tiny = {k: v for k, v in TINY.items() if k != "batch_size"}
    run = cond.train_conditional("skin", run_dir=tmp_path / "run", epochs=1, num_images=64,
                                 progress=False, **tiny)
    assert gh.make_config().batch_size != cond.CONDITIONAL_BATCH_SIZE == 64
    assert run.config.batch_size == 64 and run.step == 1
    assert json.loads((tmp_path / "run" / "config.json").read_text())["config"]["batch_size"] == 64


def test_cli_trains_with_conditional_and_rejects_unknown_attributes(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--conditional", "hair_colour,nose"])
    assert exit_info.value.code == cli.EXIT_USAGE
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "cannot condition on 'nose'" in error
    assert cli.main(["train", "--conditional", "skin", "--data", "faces"]) == cli.EXIT_USAGE
    assert "--data and --repeat do not apply" in capsys.readouterr().err

    flags = ["--image-size", "32", "--filters", "8", "--latent-dim", "16", "--batch-size", "8",
             "--num-images", "32", "--no-progress", "--run-dir", str(tmp_path / "run")]
    assert cli.main(["train", "--conditional", "skin", "--epochs", "1", *flags]) == 0
    # --resume finds the run's attributes by itself.
    assert cli.main(["train", "--resume", "--run-dir", str(tmp_path / "run"), "--epochs", "2",
                     "--no-progress"]) == 0
    run = cond.load_conditional_run(tmp_path / "run")
    assert run.values == {"skin": VALUES["skin"]} and run.step == 8
    # sample draws faces for random attributes; load_run says which loader to use.
    assert cli.main(["sample", "--run-dir", str(tmp_path / "run"), "--count", "4",
                     "--out", str(tmp_path / "s.png")]) == 0
    with Image.open(tmp_path / "s.png") as picture:
        assert picture.size == (2 * 34 + 2, 2 * 34 + 2)
    with pytest.raises(ValueError, match="load_conditional_run"):
        gh.load_run(tmp_path / "run")


@pytest.fixture(scope="module")
def classifier():
    # Session cache folder (conftest): trained once in quick mode, loaded after that.
    return attr.load_attribute_classifier(progress=False)


def test_obedience_is_high_for_real_faces_and_low_for_wrong_labels(classifier):
    images, labels = cond.load_labelled_faces(64, 32, progress=False)
    truthful = cond.score_obedience(classifier, images, labels, VALUES)
    # Each wrong label: the next value round, never the true one.
    wrong = {name: (index + 1) % len(VALUES[name]) for name, index in labels.items()}
    lying = cond.score_obedience(classifier, images, wrong, VALUES)
    print(f"\nreal faces read back (quick classifier): {truthful}")
    assert truthful["chance"] == {"hair_colour": 0.25, "skin": 0.25}
    for name in VALUES:
        assert truthful[name] > 0.75, name  # quick classifier, AMD EPYC: 0.89, 0.92
        assert lying[name] < 0.1, name
    assert truthful["all"] <= min(truthful["hair_colour"], truthful["skin"])


def test_measure_obedience_on_a_tiny_run_gives_shares(tmp_path, classifier):
    run = _train(tmp_path / "run", epochs=1)
    result = cond.measure_obedience(run, classifier, per_combination=2)
    assert result["count"] == 32  # 16 combinations x 2
    for key in ("hair_colour", "skin", "all"):
        assert 0.0 <= result[key] <= 1.0


# ------------------------------------------------ one way to open a run, one config -> models

def test_one_function_opens_a_conditional_run_and_a_plain_run(faces32, tmp_path):
    from gan_helpers.core import training

    trained = _train(tmp_path / "cond", epochs=1)
    plain = gh.train(images=faces32[:32], run_dir=tmp_path / "plain", epochs=1, progress=False,
                     **TINY)
    opened = training.open_run(tmp_path / "cond")
    assert type(opened) is cond.ConditionalRun and opened.values == VALUES
    assert (opened.step, opened.epoch, opened.data) == (4, 1, cond.LABELLED_FACES)
    assert np.array_equal(opened.fixed_noise, trained.fixed_noise)
    assert opened.history == trained.history
    assert np.allclose(opened.condition_grid(), trained.condition_grid(), atol=1e-6)
    assert opened.generator.get_layer("generator").input_shape == (None, 16 + LABEL_DIM)
    other = training.open_run(tmp_path / "plain")
    assert type(other) is training.Run and other.step == plain.step == 4
    assert other.sample(count=2).shape == (2, 32, 32, 3)
    # The public names are thin wrappers that also say which kind they want.
    assert cond.load_conditional_run(tmp_path / "cond").step == 4
    with pytest.raises(ValueError, match=r"cond holds a conditional run: load it with "
                                         r"gan_helpers.conditional.load_conditional_run"):
        gh.load_run(tmp_path / "cond")
    with pytest.raises(ValueError, match=r"plain holds an unconditional run: load it with "
                                         r"gan_helpers.load_run"):
        cond.load_conditional_run(tmp_path / "plain")
    # Resuming with the wrong trainer names the folder and the right one.
    with pytest.raises(ValueError, match=r"cond holds a conditional run: resume it with "
                                         r"gan_helpers.conditional.train_conditional"):
        gh.train(run_dir=tmp_path / "cond", resume=True, progress=False)
    with pytest.raises(ValueError, match=r"plain holds an unconditional run: resume it with "
                                         r"gan_helpers.train"):
        cond.train_conditional(run_dir=tmp_path / "plain", resume=True, progress=False)


def _count_config_reads(monkeypatch) -> list:
    """Every opening of a file named config.json for reading, from now on."""
    import builtins
    import io
    from pathlib import Path

    reads, real_open = [], io.open

    def counting_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, Path)) and Path(file).name == "config.json" and "r" in mode:
            reads.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(io, "open", counting_open)  # Path.read_text / Path.open
    monkeypatch.setattr(builtins, "open", counting_open)
    return reads


def test_a_conditional_resume_reads_config_json_once(tmp_path, monkeypatch):
    _train(tmp_path / "run", epochs=1)
    reads = _count_config_reads(monkeypatch)
    resumed = cond.train_conditional(run_dir=tmp_path / "run", resume=True, epochs=2,
                                     progress=False)
    assert resumed.step == 8 and resumed.values == VALUES
    assert reads == [str(tmp_path / "run" / "config.json")]
    # The command line opens the folder to check the flags and to pick the trainer, once.
    reads.clear()
    assert cli.main(["train", "--resume", "--run-dir", str(tmp_path / "run"), "--epochs", "3",
                     "--no-progress"]) == 0
    assert len(reads) == 1
    assert cond.load_conditional_run(tmp_path / "run").step == 12


UNSUPPORTED_VALUES = {"ema": 0.999, "r1_gamma": 10.0}


def test_the_refused_fields_are_the_ones_the_conditional_models_lack():
    assert set(cond.UNSUPPORTED) == set(UNSUPPORTED_VALUES)
    neutral = gh.GANConfig()
    for name, value in UNSUPPORTED_VALUES.items():
        assert value != getattr(neutral, name)


@pytest.mark.parametrize("name", sorted(UNSUPPORTED_VALUES))
def test_an_unsupported_field_is_refused_naming_it_and_its_value(name, tmp_path, monkeypatch):
    value = UNSUPPORTED_VALUES[name]
    expected = f"{name} is not supported for conditional runs ({name}={value!r}: "
    with pytest.raises(ValueError) as info:
        cond.build_conditional_models(_config(**{name: value}), LABEL_DIM)
    assert str(info.value).startswith(expected) and len(str(info.value).splitlines()) == 1
    assert str(info.value).endswith(f"set {name}={getattr(gh.GANConfig(), name)!r}")
    # train_conditional refuses it before rendering any face, and leaves no folder.
    monkeypatch.setattr(cond, "load_labelled_faces",
                        lambda *a, **k: pytest.fail("faces rendered for a refused config"))
    with pytest.raises(ValueError, match=re.escape(expected)):
        _train(tmp_path / "run", epochs=1, **{name: value})
    assert not (tmp_path / "run").exists()


def test_colour_augmentation_in_the_config_is_refused_naming_the_value():
    with pytest.raises(ValueError, match=r"d_augment='color,translation': 'color' changes the "
                                         r"hair and skin colours"):
        cond.build_conditional_models(_config(d_augment="color,translation"), LABEL_DIM)


def test_the_width_reaches_the_conditional_generator_through_the_shared_mapping():
    generator, discriminator, gan = _models(filters=12)
    body = generator.get_layer("generator")
    assert body.get_layer("project").units == 4 * 4 * 12 * 4
    plain = gh.core.training.build_models(_config(filters=12))[0]
    assert [layer.name for layer in plain.layers] == [layer.name for layer in body.layers]
    rng = np.random.default_rng(0)
    images, conditions = _batch(8)
    logs = gh.train_step(generator, discriminator, gan, images, rng=rng, config=_config(),
                         conditions=conditions)
    assert all(np.isfinite(v) for v in logs.values())


# Notebook 08's settings (cells 6, 18, 23 and 25).
NB08_PRESET, NB08_IMAGE_SIZE, NB08_ATTRIBUTES = "cartoon-v5", 32, ("hair_colour", "skin")


def _nb08_config(**overrides):
    return gh.make_config(NB08_PRESET, image_size=NB08_IMAGE_SIZE, d_augment="translation",
                          **overrides)


def _conditional_models_before_the_shared_mapping(config, label_dim, seed=0):
    """build_conditional_models as it was before it went through training.build_models
    (2026-12, verbatim but for the module prefixes): the reference for notebook 08's models."""
    from gan_helpers.core.config import parse_augment
    from gan_helpers.core.gan import compile_gan, latent_size
    from gan_helpers.core.hardware import resolve_precision
    from gan_helpers.core.models import DiffAugment, dtype_policy

    keras, layers = gh.keras, gh.keras.layers
    gh.set_seed(seed)
    with dtype_policy(resolve_precision(config.precision)):
        body = gh.build_generator(config.latent_dim + label_dim, config.image_size,
                                  filters=config.filters)
        z = keras.Input(shape=(config.latent_dim,), name="z")
        label = keras.Input(shape=(label_dim,), name="label")
        z_and_label = layers.Concatenate(name="z_and_label")([z, label])
        generator = keras.Model([z, label], body(z_and_label), name="conditional_generator")

        size, policy = config.image_size, parse_augment(config.d_augment)
        body = gh.build_discriminator(size, channels=3 + label_dim, filters=config.filters,
                                      batch_norm=config.d_batch_norm, dropout=config.d_dropout,
                                      minibatch_std=config.minibatch_std,
                                      spectral_norm=config.d_spectral_norm)
        image = keras.Input(shape=(size, size, 3), name="image")
        label = keras.Input(shape=(label_dim,), name="label")
        seen = DiffAugment(policy, seed=seed)(image) if policy else image
        maps = layers.Reshape((1, 1, label_dim))(label)
        maps = layers.UpSampling2D(size=size, name="label_maps")(maps)
        image_and_label = layers.Concatenate(name="image_and_label")([seen, maps])
        discriminator = keras.Model([image, label], body(image_and_label),
                                    name="conditional_discriminator")

        z = keras.Input(shape=(latent_size(generator),), name="z")
        label = keras.Input(shape=generator.inputs[1].shape[1:], name="label")
        gan = keras.Model([z, label], discriminator([generator([z, label]), label]),
                          name="conditional_gan")
        compile_gan(gan, discriminator, lr_d=config.lr_d, lr_g=config.lr_g,
                    beta_1=config.beta_1)
    return generator, discriminator, gan


def _describe(model, prefix=""):
    rows = []
    for layer in model.layers:
        rows.append((prefix + layer.name, type(layer).__name__,
                     [tuple(t.shape) for t in getattr(layer, "outputs", None) or [layer.output]]))
        if hasattr(layer, "layers"):
            rows += _describe(layer, f"{prefix}{layer.name}/")
    return rows


@pytest.mark.parametrize("overrides", [
    {},  # cell 23: build_conditional_models(config, LABEL_DIM, seed=SEED)
    {"batch_size": 64, "epochs": 63},  # cell 25: train_conditional's config
    {"minibatch_std": 0, "d_dropout": 0.2, "d_batch_norm": True, "d_spectral_norm": True,
     "filters": 48},  # the other levers the old code passed on
], ids=["cell23", "cell25", "d_levers"])
def test_notebook_08s_conditional_models_are_the_same_as_before(overrides):
    keras = gh.keras
    config = _nb08_config(**overrides)
    keras.backend.clear_session()  # Keras' own layer names count up within a session
    before = _conditional_models_before_the_shared_mapping(config, LABEL_DIM, seed=0)
    keras.backend.clear_session()
    after = cond.build_conditional_models(config, LABEL_DIM, seed=0)
    z = gh.sample_noise(np.random.default_rng(1), 4, config.latent_dim)
    labels = np.eye(LABEL_DIM, dtype=np.float32)[[0, 3, 5, 7]]
    for old, new in zip(before, after):
        assert (new.name, type(new)) == (old.name, type(old))
        assert [t.name for t in new.inputs] == [t.name for t in old.inputs]
        assert _describe(new) == _describe(old)
        assert [(w.path, tuple(w.shape)) for w in new.weights] == \
               [(w.path, tuple(w.shape)) for w in old.weights]
        for a, b in zip(new.weights, old.weights):
            assert np.array_equal(a.numpy(), b.numpy()), a.path
    for old, new in zip(before[1:], after[1:]):  # D and the combined model: same optimisers
        assert [type(new.optimizer), float(new.optimizer.learning_rate), new.optimizer.beta_1] == \
               [type(old.optimizer), float(old.optimizer.learning_rate), old.optimizer.beta_1]
    images = [np.asarray(models[0]([z, labels], training=False)) for models in (before, after)]
    assert np.array_equal(images[0], images[1])
    assert np.array_equal(np.asarray(before[1]([images[0], labels])),
                          np.asarray(after[1]([images[1], labels])))


def test_notebook_08s_default_conditional_config_still_builds_and_trains(tmp_path):
    config = _nb08_config()
    values = cond.condition_values(NB08_ATTRIBUTES)
    images, labels = cond.load_labelled_faces(64, NB08_IMAGE_SIZE, NB08_ATTRIBUTES,
                                              progress=False)
    label_dim = cond.encode_conditions({n: labels[n][:1] for n in values}, values).shape[1]
    generator, discriminator, gan = cond.build_conditional_models(config, label_dim, seed=0)
    real = gh.scale_images(images[:config.batch_size])
    asked = cond.encode_conditions({n: labels[n][:config.batch_size] for n in values}, values)
    logs = gh.train_step(generator, discriminator, gan, real, rng=np.random.default_rng(0),
                         config=config, conditions=asked)
    assert all(np.isfinite(v) for v in logs.values())
    # Cell 25's call, on 64 faces for one epoch: one batch of 64.
    run = cond.train_conditional(NB08_ATTRIBUTES, NB08_PRESET, image_size=NB08_IMAGE_SIZE,
                                 num_images=64, epochs=1, run_dir=tmp_path / "run", seed=0,
                                 resume="auto", progress=False)
    assert run.step == 1 and run.config.batch_size == 64 and run.values == values
    assert run.config.d_augment == "translation" and run.config.beta_1 == 0.5


def test_evaluate_on_a_conditional_run_says_what_measures_it_in_one_line(tmp_path, capsys):
    _train(tmp_path / "run", epochs=1)
    assert cli.main(["evaluate", "--run-dir", str(tmp_path / "run"), "--count", "16"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "holds a conditional run: evaluate scores unconditional runs" in err
    assert "measure_obedience" in err
