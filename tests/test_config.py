import subprocess
import sys

import pytest

from gan_helpers.core import config


def test_presets_build_valid_configs():
    for name in config.PRESETS:
        cfg = config.make_config(name)
        assert cfg.image_size in config.SUPPORTED_IMAGE_SIZES
    assert config.make_config("surma").image_size == 128
    assert config.make_config("surma").lr_d == pytest.approx(4e-5)
    assert config.make_config("mlwhiz").real_label_range == (0.8, 1.0)
    assert config.DEFAULT_PRESET == "cartoon"
    assert config.make_config().minibatch_std == 4
    assert config.make_config().fake_label_range == (0.0, 0.0)


def test_the_default_is_the_previous_default_without_adams_momentum():
    # docs/results.md: beta_1 0 won at the full budget; cartoon-v5 keeps DCGAN's 0.5 to
    # compare against, and nothing else differs between the two.
    new, old = config.make_config("cartoon").to_dict(), config.make_config("cartoon-v5").to_dict()
    assert new["beta_1"] == 0.0 and old["beta_1"] == 0.5
    assert {k: v for k, v in new.items() if k != "beta_1"} == {k: v for k, v in old.items() if k != "beta_1"}
    assert config.make_config().beta_1 == 0.0
    assert config.make_config(beta_1=0.5) == config.make_config("cartoon-v5")


def test_overrides_apply_and_none_is_ignored():
    cfg = config.make_config("dcgan", image_size=32, batch_size=None)
    assert cfg.image_size == 32
    assert cfg.batch_size == config.PRESETS["dcgan"]["batch_size"]


@pytest.mark.parametrize("field,value,needle", [
    ("image_size", 48, "image_size"),
    ("batch_size", 0, "batch_size"),
    ("lr_d", -1.0, "lr_d"),
    ("real_label_range", (0.9, 0.8), "real_label_range"),
    ("label_flip_prob", 1.5, "label_flip_prob"),
    ("ema", 1.0, "ema"),
])
def test_bad_values_name_the_field(field, value, needle):
    with pytest.raises(ValueError, match=needle):
        config.make_config("dcgan", **{field: value})


def test_minibatch_groups_must_divide_the_batch():
    with pytest.raises(ValueError, match=r"batch_size \(30\) must be a multiple of minibatch_std \(4\)"):
        config.make_config("cartoon", batch_size=30)
    assert config.make_config("dcgan", batch_size=30).batch_size == 30


def test_a_bare_config_is_the_default_recipe_not_dcgan():
    assert config.GANConfig() == config.make_config()
    assert config.PRESETS[config.DEFAULT_PRESET] == {}
    bare = config.GANConfig()
    assert (bare.beta_1, bare.batch_size, bare.filters) == (0.0, 32, 32)
    dcgan = config.make_config("dcgan")
    assert (dcgan.beta_1, dcgan.batch_size, dcgan.filters) == (0.5, 64, 64)


def test_the_presets_are_the_default_the_previous_default_and_the_seed_recipes():
    assert sorted(config.PRESETS) == ["cartoon", "cartoon-v5", "dcgan", "mlwhiz", "surma"]
    # Every preset names only fields GANConfig has, and changes each from its default.
    defaults = config.GANConfig().to_dict()
    for name, values in config.PRESETS.items():
        for field, value in values.items():
            assert field in defaults, (name, field)
            assert config.GANConfig(**{field: value}).to_dict()[field] != defaults[field], (name, field)


def _saved(**fields):
    """A config.json's values as an older version of the package wrote them."""
    return {**config.make_config("cartoon-v5").to_dict(), **fields}


@pytest.mark.parametrize("field,neutral", sorted(config.RETIRED_FIELDS.items()))
def test_a_retired_field_at_its_neutral_value_still_loads(field, neutral):
    loaded = config.GANConfig.from_dict(_saved(**{field: neutral}))
    assert loaded == config.make_config("cartoon-v5")
    assert not hasattr(loaded, field)


@pytest.mark.parametrize("field,value", [
    ("pack", 2), ("g_codes", 3), ("g_upsample", "nearest"), ("g_filters", 48),
    ("g_top_filters", 16), ("mode_seeking", 0.1), ("spread_matching", 1.0), ("d_augment_p", 0.5),
])
def test_a_retired_field_that_was_on_is_refused_in_one_line_naming_it(field, value):
    with pytest.raises(ValueError, match=f"^{field}={value!r} was retired") as error:
        config.GANConfig.from_dict(_saved(**{field: value}))
    assert "\n" not in str(error.value)


def test_g_filters_equal_to_filters_meant_the_same_width_and_loads():
    assert config.GANConfig.from_dict(_saved(g_filters=32)).filters == 32


def test_retired_fields_are_not_accepted_as_new_settings():
    with pytest.raises(ValueError, match="^pack=2 was retired"):
        config.make_config("cartoon", pack=2)
    with pytest.raises(TypeError):
        config.GANConfig(pack=2)


def test_unknown_preset_and_field():
    with pytest.raises(ValueError, match="unknown preset 'nope'"):
        config.make_config("nope")
    with pytest.raises(ValueError, match="unknown GANConfig fields: colour"):
        config.GANConfig.from_dict({"colour": 1})


def test_config_round_trips_through_dict():
    cfg = config.make_config("surma")
    assert config.GANConfig.from_dict(cfg.to_dict()) == cfg


def _quick_probe(env_value):
    code = ("from gan_helpers.core import config, data; "
            "print(config.QUICK, config.quick_value(10, 1), data.default_image_count())")
    env = {"GAN_QUICK": env_value, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    return out.stdout.split()


def test_quick_mode_is_read_from_the_environment():
    assert _quick_probe("1") == ["True", "1", "256"]
    assert _quick_probe("0") == ["False", "10", "10000"]


def test_set_seed_makes_draws_repeat():
    import numpy as np

    from gan_helpers import build_generator

    config.set_seed(3)
    a = build_generator(image_size=32).get_weights()[0]
    b = np.random.rand()
    config.set_seed(3)
    assert np.array_equal(build_generator(image_size=32).get_weights()[0], a)
    assert np.random.rand() == b
    with pytest.raises(ValueError, match="seed"):
        config.set_seed(-1)


def test_random_streams_are_reproducible_and_never_shared():
    import numpy as np

    first = lambda rng: rng.integers(0, 2**62, size=4).tolist()  # noqa: E731
    assert first(config.rng_stream(5, "batches", 2)) == first(config.rng_stream(5, "batches", 2))
    # every purpose, epoch and seed gets its own stream; the old scheme's
    # default_rng([seed, epoch]) gave epoch 1's order the training noise's stream
    draws = [first(config.rng_stream(seed, purpose, *keys))
             for seed in (0, 1, 2) for purpose, keys in
             [("training", ()), ("fixed_noise", ()), ("batches", (0,)), ("batches", (1,)),
              ("batches", (2,))]]
    assert len({tuple(d) for d in draws}) == len(draws)
    assert first(config.rng_stream(0, "batches", 1)) != first(np.random.default_rng([0, 1]))
    with pytest.raises(ValueError, match="unknown random stream 'labels'"):
        config.rng_stream(0, "labels")


def test_the_public_api_is_two_named_groups_of_existing_names():
    import gan_helpers

    assert not set(gan_helpers.LIBRARY) & set(gan_helpers.LESSON_HELPERS)
    assert len(gan_helpers.__all__) == len(set(gan_helpers.__all__))
    for name in gan_helpers.__all__:
        assert hasattr(gan_helpers, name), name
    imported = {name for name, value in vars(gan_helpers).items()
                if not name.startswith("_") and not isinstance(value, type(gan_helpers))
                and name not in ("annotations", "LIBRARY", "LESSON_HELPERS")}
    assert imported - set(gan_helpers.__all__) == set(), "an import is in neither group"


def test_every_config_field_has_its_description_from_the_docstring():
    """``train --help`` reads each field's text from GANConfig's docstring; Python 3.13
    strips a docstring's indentation when compiling it, 3.11 does not: both must parse."""
    import dataclasses

    from gan_helpers.core.config import GANConfig, config_field_help

    helps = config_field_help()
    assert set(helps) == {field.name for field in dataclasses.fields(GANConfig)}
    assert all(len(text) > 10 for text in helps.values())
