"""The figures notebooks 03 and 04 teach with: generator-loss gradients, image rows, minibatch-std bars."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import gan_helpers as gh  # noqa: E402
from gan_helpers.core import viz  # noqa: E402


def test_generator_loss_gradients_follow_the_analytic_formulas():
    d_fake = np.array([0.01, 0.5, 0.99])
    gradients = viz.generator_loss_gradients(d_fake)
    np.testing.assert_allclose(gradients["non_saturating"], [-0.99, -0.5, -0.01])
    np.testing.assert_allclose(gradients["minimax"], [-0.01, -0.5, -0.99])
    # Both push the logit up (gradient descent steps against a negative gradient) ...
    assert (gradients["non_saturating"] <= 0).all() and (gradients["minimax"] <= 0).all()
    # ... but where D rejects the fakes only the non-saturating loss pushes hard.
    assert abs(gradients["non_saturating"][0]) > 50 * abs(gradients["minimax"][0])
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        viz.generator_loss_gradients([0.5, 1.5])


def test_generator_loss_gradients_match_keras_through_the_sigmoid():
    tf, keras = gh.tf, gh.keras
    d_fake = np.array([0.01, 0.3, 0.9])
    logit = tf.Variable(np.log(d_fake / (1 - d_fake))[:, None], dtype=tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        s = keras.activations.sigmoid(logit)
        # Summed, so each element's gradient is its own loss's derivative.
        non_saturating = keras.ops.sum(keras.losses.binary_crossentropy(tf.ones_like(s), s))
        minimax = keras.ops.sum(keras.ops.log(1 - s))
    expected = viz.generator_loss_gradients(d_fake)
    np.testing.assert_allclose(tape.gradient(non_saturating, logit).numpy().ravel(),
                               expected["non_saturating"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(tape.gradient(minimax, logit).numpy().ravel(),
                               expected["minimax"], rtol=1e-4, atol=1e-6)


def test_plot_generator_loss_gradients_draws_both_magnitudes():
    ax = viz.plot_generator_loss_gradients()
    non_saturating, minimax = ax.lines[:2]
    x = non_saturating.get_xdata()
    i = int(np.argmin(np.abs(x - 0.01)))
    assert x[i] == pytest.approx(0.01)
    assert non_saturating.get_ydata()[i] == pytest.approx(0.99)
    assert minimax.get_ydata()[i] == pytest.approx(0.01)
    assert non_saturating.get_ydata()[i] > 50 * minimax.get_ydata()[i]
    # Magnitudes: the non-saturating one falls as D(G(z)) rises, the minimax one grows.
    assert np.all(np.diff(non_saturating.get_ydata()) < 0)
    assert np.all(np.diff(minimax.get_ydata()) > 0)
    assert "non-saturating" in non_saturating.get_label() and "minimax" in minimax.get_label()
    plt.close("all")


def test_plot_image_rows_gives_one_titled_axes_per_row():
    rows = [np.zeros((4, 8, 8, 3), np.float32), np.full((4, 8, 8, 3), 255, np.uint8),
            np.ones((2, 8, 8, 1), np.float32)]
    axes = viz.plot_image_rows(rows, labels=["black", "white", "two"])
    assert [ax.get_title() for ax in axes] == ["black", "white", "two"]
    first = axes[0].get_images()[0].get_array()
    assert first.shape == (8 + 4, 4 * 10 + 2, 3)  # one row of 4 images with 2 px padding
    assert axes[2].get_images()[0].get_array().shape[1] == 2 * 10 + 2
    with pytest.raises(ValueError, match="one per row"):
        viz.plot_image_rows(rows, labels=["only one"])
    with pytest.raises(ValueError, match="at least one row"):
        viz.plot_image_rows([])
    plt.close("all")


def test_plot_minibatch_std_draws_each_batch_group_by_group():
    scores = {"varied": [0.25, 0.3, 0.2], "collapsed": [0.008, 0.009, 0.007]}
    ax = viz.plot_minibatch_std(scores)
    assert len(ax.containers) == 2
    for container, values in zip(ax.containers, scores.values()):
        np.testing.assert_allclose([bar.get_height() for bar in container], values)
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="at least one batch"):
        viz.plot_minibatch_std({})
    with pytest.raises(ValueError, match="1-D"):
        viz.plot_minibatch_std({"bad": np.zeros((2, 2))})
    plt.close("all")
