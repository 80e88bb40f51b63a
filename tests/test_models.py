import numpy as np
import pytest

import gan_helpers as gh
from gan_helpers import build_discriminator, build_generator, keras


@pytest.mark.parametrize("size", [32, 64, 128])
def test_generator_and_discriminator_shapes(size):
    generator = build_generator(latent_dim=16, image_size=size, filters=8)
    discriminator = build_discriminator(image_size=size, filters=8)
    images = generator(np.random.randn(3, 16).astype("float32"), training=False).numpy()
    assert images.shape == (3, size, size, 3)
    assert images.min() >= -1.0 and images.max() <= 1.0  # tanh
    scores = discriminator(images, training=False).numpy()
    assert scores.shape == (3, 1)
    assert ((scores > 0) & (scores < 1)).all()  # sigmoid


def test_default_models_are_sequential_dcgan():
    generator, discriminator = build_generator(), build_discriminator()
    assert isinstance(generator, keras.Sequential) and isinstance(discriminator, keras.Sequential)
    kinds = [type(layer).__name__ for layer in generator.layers]
    assert kinds.count("Conv2DTranspose") == 4 and "BatchNormalization" in kinds
    d_kinds = [type(layer).__name__ for layer in discriminator.layers]
    assert "BatchNormalization" not in d_kinds and d_kinds.count("Conv2D") == 4
    assert d_kinds.count("LeakyReLU") == 4
    assert generator.output_shape == (None, 64, 64, 3)


def test_weights_start_from_normal_0_002():
    kernel = build_discriminator(filters=32).layers[0].kernel.numpy()
    assert abs(kernel.mean()) < 0.002
    assert 0.015 < kernel.std() < 0.025


def test_options_batch_norm_dropout_grayscale():
    discriminator = build_discriminator(image_size=32, channels=1, batch_norm=True, dropout=0.3)
    kinds = [type(layer).__name__ for layer in discriminator.layers]
    assert kinds.count("BatchNormalization") == 2 and kinds.count("Dropout") == 3
    assert build_generator(image_size=32, channels=1).output_shape == (None, 32, 32, 1)


@pytest.mark.parametrize("builder", [build_generator, build_discriminator])
def test_unsupported_size_is_a_clear_error(builder):
    with pytest.raises(ValueError, match=r"image_size must be one of \(32, 64, 128\)"):
        builder(image_size=48)


@pytest.mark.parametrize("size", [32, 64])
def test_nearest_upsampling_generator_has_the_same_shapes_and_no_transposed_convolution(size):
    nearest = gh.build_generator(image_size=size, filters=8, upsample="nearest")
    transpose = gh.build_generator(image_size=size, filters=8)
    z = np.random.default_rng(0).normal(size=(2, 100)).astype("float32")
    images = np.asarray(nearest(z, training=False))
    assert images.shape == np.asarray(transpose(z, training=False)).shape == (2, size, size, 3)
    assert np.abs(images).max() <= 1.0
    kinds = [type(layer).__name__ for layer in nearest.layers]
    assert "Conv2DTranspose" not in kinds and kinds.count("UpSampling2D") == {32: 3, 64: 4}[size]
    with pytest.raises(ValueError, match="upsample must be"):
        gh.build_generator(upsample="bilinear")
    with pytest.raises(ValueError, match="g_upsample must be one of transpose, nearest"):
        gh.make_config(g_upsample="bilinear")


@pytest.mark.parametrize("upsample", ["transpose", "nearest"])
def test_top_filters_add_one_hidden_layer_at_the_full_size(upsample):
    plain = gh.build_generator(image_size=32, filters=8, upsample=upsample)
    top = gh.build_generator(image_size=32, filters=8, upsample=upsample, top_filters=4)
    z = np.random.default_rng(0).normal(size=(2, 100)).astype("float32")
    images = np.asarray(top(z, training=False))
    assert images.shape == (2, 32, 32, 3) and np.abs(images).max() <= 1.0
    # The last doubling now draws 4 feature maps at 32 px, normalised; a 3x3 convolution
    # (not another doubling) turns them into the image.
    assert top.get_layer("up_32").output.shape[1:] == (32, 32, 4)
    assert top.get_layer("bn_32").output.shape[1:] == (32, 32, 4)
    to_image = top.get_layer("to_image")
    assert type(to_image).__name__ == "Conv2D" and to_image.kernel.shape == (3, 3, 4, 3)
    assert to_image.strides == (1, 1)
    assert [l.name for l in top.layers[:-5]] == [l.name for l in plain.layers[:-2]]  # the rest as before
    with pytest.raises(ValueError, match="top_filters must be 0"):
        gh.build_generator(top_filters=-1)
    with pytest.raises(ValueError, match="g_top_filters must be 0 .off. or a positive integer, got 2.5"):
        gh.make_config(g_top_filters=2.5)


def test_config_builds_g_with_top_filters():
    from gan_helpers.training import build_models

    config = gh.make_config(image_size=32, filters=8, g_top_filters=4)
    generator = build_models(config)[0]
    assert generator.get_layer("bn_32").output.shape[-1] == 4


def test_latent_codes_turn_groups_of_z_into_even_one_hot_choices():
    from gan_helpers.models import LatentCodes

    z = np.random.default_rng(0).normal(size=(4000, 40)).astype("float32")
    out = np.asarray(LatentCodes(2)(z))
    codes = out[:, :20].reshape(-1, 2, 10)
    assert set(np.unique(codes)) == {0.0, 1.0} and (codes.sum(-1) == 1).all()
    # Each code marks its group's largest number: for Gaussian z every category is as likely.
    assert (codes.argmax(-1) == z[:, :20].reshape(-1, 2, 10).argmax(-1)).all()
    counts = np.bincount(codes[:, 0].argmax(-1), minlength=10)
    assert counts.min() > 300 and counts.max() < 500  # 400 expected each
    np.testing.assert_array_equal(out[:, 20:], z[:, 20:])  # the rest of z passes through

    generator = gh.build_generator(latent_dim=40, image_size=32, filters=8, codes=2)
    assert generator.layers[0].name == "codes" and generator.output_shape == (None, 32, 32, 3)
    # Two z that differ only below each group's largest number give the same image.
    a = z[:2].copy()
    b = a.copy()
    for row in range(2):
        for group in range(2):
            span = slice(10 * group, 10 * group + 10)
            low = np.argsort(a[row, span])[:5] + 10 * group
            b[row, low] -= 1.0
    np.testing.assert_allclose(generator(a, training=False), generator(b, training=False), atol=1e-6)
    with pytest.raises(ValueError, match="codes must be a positive integer"):
        LatentCodes(0)
    with pytest.raises(ValueError, match=r"codes \(5\) x 10 must not exceed latent_dim \(40\)"):
        gh.build_generator(latent_dim=40, codes=5)
    with pytest.raises(ValueError, match=r"g_codes \(11\) x 10 must not exceed latent_dim \(100\)"):
        gh.make_config(g_codes=11)
    assert gh.make_config(image_size=32, filters=8, latent_dim=40, g_codes=2).g_codes == 2


def test_minibatch_std_sees_groups_of_identical_images():
    from gan_helpers.models import MinibatchStdDev

    rng = np.random.default_rng(0)
    images = rng.standard_normal((8, 4, 4, 3)).astype("float32")
    images[4:] = images[4]  # the second group of 4: one image repeated
    out = MinibatchStdDev(group_size=4)(images).numpy()
    assert out.shape == (8, 4, 4, 4)
    assert np.array_equal(out[..., :3], images)
    assert out[:4, ..., 3].min() > 0.5  # varied group
    assert out[4:, ..., 3].max() < 1e-3  # collapsed group: the telltale 0
    assert np.allclose(out[:4, ..., 3], out[0, 0, 0, 3])  # one constant per group


def test_discriminator_with_minibatch_std_keeps_its_output_shape():
    discriminator = build_discriminator(image_size=32, filters=8, minibatch_std=4)
    kinds = [type(layer).__name__ for layer in discriminator.layers]
    assert "MinibatchStdDev" in kinds and "BatchNormalization" not in kinds
    scores = discriminator(np.zeros((8, 32, 32, 3), "float32")).numpy()
    assert scores.shape == (8, 1)


def test_pack_stacks_consecutive_images_along_the_channels():
    from gan_helpers.models import Pack

    images = np.random.default_rng(0).standard_normal((6, 4, 4, 3)).astype("float32")
    packed = Pack(3)(images).numpy()
    assert packed.shape == (2, 4, 4, 9)
    for pack in range(2):
        for slot in range(3):  # pack p holds images 3p, 3p + 1, 3p + 2, in that order
            assert np.array_equal(packed[pack, ..., 3 * slot:3 * slot + 3], images[3 * pack + slot])
    assert Pack(np.int64(2)).size == 2 and type(Pack(np.int64(2)).size) is int  # as GANConfig allows
    with pytest.raises(ValueError, match="size must be a positive integer"):
        Pack(0)


def test_discriminator_with_packs_scores_each_pack_and_sees_all_of_it():
    from gan_helpers.models import pack_size

    gh.set_seed(0)
    discriminator = build_discriminator(image_size=32, filters=8, pack=2)
    assert pack_size(discriminator) == 2 and pack_size(build_discriminator(32, filters=8)) == 1
    assert discriminator.get_layer("conv_16").kernel.shape[2] == 6  # both images' channels
    images = np.random.default_rng(1).uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
    scores = discriminator(images).numpy()
    assert scores.shape == (4, 1)
    changed = images.copy()
    changed[3] = -changed[3]  # the second image of the second pack
    new = discriminator(changed).numpy()
    np.testing.assert_allclose(new[[0, 2, 3]], scores[[0, 2, 3]], rtol=0, atol=1e-7)  # the others
    assert abs(new[1, 0] - scores[1, 0]) > 1e-6  # about 1e-4 at this seed


def test_pack_divides_d_cost_per_image():
    from gan_helpers.models import forward_flops

    single = forward_flops(build_discriminator(64, filters=32))
    packed = forward_flops(build_discriminator(64, filters=32, pack=2))
    # Every layer but the first runs once per pack; the first sees twice the channels.
    assert 0.5 * single < packed < 0.6 * single


def test_diffaugment_changes_images_only_in_training():
    from gan_helpers.models import DiffAugment
    images = np.random.default_rng(0).uniform(-1, 1, (6, 32, 32, 3)).astype("float32")
    layer = DiffAugment("color,translation,cutout", seed=0)
    assert np.array_equal(layer(images).numpy(), images)  # inference: untouched
    augmented = layer(images, training=True).numpy()
    assert augmented.shape == images.shape
    assert not np.allclose(augmented, images)
    assert not np.allclose(augmented, layer(images, training=True).numpy())  # fresh draws


def test_diffaugment_probability_leaves_about_that_share_of_images_alone():
    from gan_helpers.models import DiffAugment
    images = np.random.default_rng(0).uniform(0.5, 1.0, (256, 16, 16, 3)).astype("float32")

    def untouched_share(layer):
        out = np.asarray(layer(images, training=True))
        return float(np.mean([np.array_equal(o, i) for o, i in zip(out, images)]))

    # Always applied, an image is left alone only when its shift happens to be (0, 0):
    # 1 in 25 at 16 px (shifts of -2..2 px each way).
    assert untouched_share(DiffAugment("translation", seed=0)) < 0.15
    half = untouched_share(DiffAugment("translation", seed=0, probability=0.5))
    assert 0.35 < half < 0.7  # expected 0.5 + 0.5 / 25 = 0.52
    layer = DiffAugment("translation", seed=0, probability=0.5)
    assert layer.get_config()["probability"] == 0.5
    assert DiffAugment.from_config(layer.get_config()).probability == 0.5
    with pytest.raises(ValueError, match="probability must be in"):
        DiffAugment("translation", probability=0.0)


def test_the_augmentation_probability_reaches_both_discriminators():
    from gan_helpers import conditional
    from gan_helpers.training import build_models
    config = gh.make_config(image_size=32, filters=8, latent_dim=16, d_augment_p=0.3)
    discriminator = build_models(config, seed=0)[1]
    assert discriminator.get_layer("augment").probability == 0.3
    _, conditional_d, _ = conditional.build_conditional_models(config, label_dim=4, seed=0)
    augments = [layer for layer in conditional_d.layers if type(layer).__name__ == "DiffAugment"]
    assert [layer.probability for layer in augments] == [0.3]


def test_translation_shifts_and_cutout_zeroes():
    from gan_helpers.models import DiffAugment
    images = np.ones((16, 32, 32, 3), "float32")
    shifted = DiffAugment("translation", seed=1)(images, training=True).numpy()
    # Only whole rows/columns at the border become padding (0); at most 4 px (1/8) each.
    zero_rows = (shifted == 0).all(axis=(2, 3)).sum(axis=1)
    assert zero_rows.max() <= 4 and zero_rows.max() > 0
    assert set(np.unique(shifted)) <= {0.0, 1.0}
    holes = DiffAugment("cutout", seed=1)(images, training=True).numpy()
    zero_fraction = (holes == 0).mean(axis=(1, 2, 3))
    assert (zero_fraction > 0).all() and (zero_fraction <= 0.25 + 1e-6).all()


def _shift(image, dy, dx):
    """``image`` moved down dy and right dx pixels, the uncovered border 0."""
    out = np.zeros_like(image)
    size = image.shape[0]
    rows, cols = slice(max(dy, 0), size + min(dy, 0)), slice(max(dx, 0), size + min(dx, 0))
    out[rows, cols] = image[max(-dy, 0):size - max(dy, 0), max(-dx, 0):size - max(dx, 0)]
    return out


def test_translation_moves_each_image_whole_by_its_own_shift():
    from gan_helpers.models import DiffAugment
    images = np.random.default_rng(0).uniform(0.5, 1.0, (16, 32, 32, 3)).astype("float32")
    shifted = np.asarray(DiffAugment("translation", seed=2)(images, training=True))
    moves = []
    for image, out in zip(images, shifted):
        found = [(dy, dx) for dy in range(-4, 5) for dx in range(-4, 5)
                 if np.array_equal(out, _shift(image, dy, dx))]
        assert len(found) == 1, "every output is its input moved by one shift of <= 4 px"
        moves.append(found[0])
    assert len(set(moves)) > 1, "each image draws its own shift"


def test_diffaugment_lets_gradients_through():
    import tensorflow as tf
    from gan_helpers.models import DiffAugment
    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 3)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(DiffAugment(seed=0)(x, training=True) ** 2)
    assert float(tf.reduce_sum(tf.abs(tape.gradient(y, x)))) > 0


def test_unknown_augmentation_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown augmentation 'rotate'"):
        build_discriminator(augment="color,rotate")


def test_spectral_norm_scales_the_kernel_to_unit_largest_singular_value():
    from gan_helpers.models import SpectralNorm

    layer = SpectralNorm(gh.keras.layers.Conv2D(6, 3, padding="same"))
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32")
    plain = layer.layer
    layer(x)
    plain.kernel.assign(plain.kernel * 7.0)  # far from 1 before normalising
    for _ in range(200):  # power iteration converges over training calls
        layer(x, training=True)
    kernel = np.asarray(layer._normalised_kernel(training=False))
    top = np.linalg.svd(kernel.reshape(-1, 6), compute_uv=False)[0]
    assert top == pytest.approx(1.0, rel=0.02)
    # the output is the wrapped convolution with that kernel, nothing assigned to it
    expected = gh.keras.ops.conv(x, kernel, padding="same") + plain.bias
    np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-5)
    assert np.abs(plain.kernel.numpy()).max() > np.abs(kernel).max() * 3


def test_spectral_norm_d_learns_in_its_step_and_stays_frozen_in_gs_step():
    gh.set_seed(0)
    generator = gh.build_generator(16, 32, filters=8)
    discriminator = gh.build_discriminator(32, filters=8, spectral_norm=True)
    gan = gh.build_gan(generator, discriminator)
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
    before = gh.snapshot_weights(discriminator)
    gh.train_discriminator(generator, discriminator, real, rng=rng)
    changed, total = gh.count_changed_weights(before, discriminator)
    assert changed == total  # kernels, biases and every power-iteration vector u
    before = gh.snapshot_weights(discriminator)
    gh.train_generator(generator, discriminator, gan, 8, rng=rng)
    assert gh.count_changed_weights(before, discriminator) == (0, total)


def test_g_filters_widens_the_generator_alone():
    from gan_helpers.training import build_models

    config = gh.make_config("cartoon", image_size=32, filters=8, g_filters=16, batch_size=8)
    generator, discriminator, _ = build_models(config)
    # G's last hidden block has g_filters channels, D's first convolution filters.
    assert generator.get_layer("bn_16").output.shape[-1] == 16
    assert discriminator.get_layer("conv_16").output.shape[-1] == 8
    narrow = build_models(gh.make_config("cartoon", image_size=32, filters=8, batch_size=8))[0]
    assert narrow.get_layer("bn_16").output.shape[-1] == 8
    assert generator.count_params() > 2 * narrow.count_params()
    with pytest.raises(ValueError, match="g_filters"):
        gh.make_config("cartoon", g_filters=-1)
