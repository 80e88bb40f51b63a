"""Training warnings: a winning D, a runaway G loss and collapsed samples are named once."""
import numpy as np

import gan_helpers as gh
from gan_helpers.core.monitor import TrainingMonitor


def _feed(monitor, steps, d_real, d_fake, g_loss, start=1):
    messages = []
    for step in range(start, start + steps):
        messages += monitor.update(step, {"d_real": d_real, "d_fake": d_fake, "g_loss": g_loss})
    return messages


def test_a_healthy_run_gets_no_warning():
    assert _feed(TrainingMonitor(window=10), 100, d_real=0.6, d_fake=0.35, g_loss=1.2) == []


def test_a_winning_discriminator_is_named_once_and_again_after_it_clears():
    monitor = TrainingMonitor(window=10)
    messages = _feed(monitor, 50, d_real=0.99, d_fake=0.01, g_loss=4.0)
    assert len(messages) == 1 and "discriminator is winning" in messages[0]
    assert messages[0].startswith("step 10:")  # as soon as a full window says so
    assert _feed(monitor, 20, d_real=0.6, d_fake=0.4, g_loss=1.0, start=51) == []
    again = _feed(monitor, 20, d_real=0.99, d_fake=0.01, g_loss=4.0, start=71)
    assert len(again) == 1


def test_a_runaway_generator_loss_is_named():
    messages = _feed(TrainingMonitor(window=10), 20, d_real=0.7, d_fake=0.2, g_loss=9.0)
    assert len(messages) == 1 and "generator loss 9.0" in messages[0]


def test_collapsed_samples_are_named_and_varied_ones_are_not():
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (16, 8, 8, 3))
    monitor = TrainingMonitor(warmup=100)
    assert monitor.check_samples(500, rng.uniform(-1, 1, (16, 8, 8, 3)), real) == []
    same = np.repeat(real[:1], 16, axis=0) + rng.normal(0, 0.01, (16, 8, 8, 3))
    assert monitor.check_samples(50, same, real) == []  # still warming up
    messages = monitor.check_samples(600, same, real)
    assert len(messages) == 1 and "collapsing" in messages[0]


def test_train_writes_warnings_to_the_run_folder(faces32, tmp_path):
    # thresholds no run can pass, so the wiring is tested rather than the GAN
    strict = TrainingMonitor(window=1, d_wins=1.0, g_loss_limit=-1.0, warmup=0)
    run = gh.train(images=faces32[:64], run_dir=tmp_path / "run", epochs=1, progress=False,
                   image_size=32, batch_size=16, filters=8, latent_dim=16, monitor=strict)
    text = (run.run_dir / "warnings.txt").read_text()
    assert run.warnings and run.warnings[0] in text
