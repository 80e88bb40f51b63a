"""Faults: kill -9 during a step and during a checkpoint write, two processes on one run
folder, an unwritable or full disk, a dangling "latest". Each is done for real."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import gan_helpers as gh
from gan_helpers.core import checkpoint
from gan_helpers import cli

TINY = dict(image_size=32, batch_size=16, filters=8, latent_dim=16)
TRAIN_ARGS = ["--data", "cartoon-faces", "--num-images", "64", "--image-size", "32",
              "--batch-size", "16", "--no-progress"]


def _history_steps(run_dir):
    return [row["step"] for row in gh.read_history(run_dir)]


def test_kill_9_mid_training_resumes_from_the_last_complete_checkpoint(tmp_path):
    run_dir = tmp_path / "run"
    # checkpoint every step (0.0001 min), many epochs: it is killed long before the end
    process = subprocess.Popen(
        [sys.executable, "-m", "gan_helpers", "train", *TRAIN_ARGS, "--epochs", "200",
         "--checkpoint-minutes", "0.0001", "--run-dir", str(run_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    latest = None
    while time.time() < deadline:
        latest = checkpoint.latest_checkpoint(run_dir / "checkpoints")
        if latest is not None and int(latest.name[5:]) >= 6:
            break
        assert process.poll() is None, f"the training process ended first (exit {process.returncode})"
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert latest is not None, "no checkpoint appeared in time"

    latest = checkpoint.latest_checkpoint(run_dir / "checkpoints")
    saved_step = json.loads((latest / "state.json").read_text())["step"]
    assert saved_step >= 6
    assert cli.main(["train", "--resume", "--run-dir", str(run_dir), "--epochs",
                     str(saved_step // 4 + 2), "--no-progress"]) == 0
    steps = _history_steps(run_dir)
    assert steps == list(range(1, len(steps) + 1))  # nothing lost, nothing repeated
    assert len(steps) == 4 * (saved_step // 4 + 2)


KILL_DURING_SAVE = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    import gan_helpers as gh
    from gan_helpers.core import checkpoint

    calls = {"n": 0}
    real_savez = np.savez

    def dying_savez(path, *args, **kwargs):
        real_savez(path, *args, **kwargs)
        if str(path).endswith("g_optimizer.npz"):
            calls["n"] += 1
            if calls["n"] == 3:  # the third checkpoint dies half written
                os.kill(os.getpid(), signal.SIGKILL)

    checkpoint.np.savez = dying_savez
    gh.train(data="cartoon-faces", num_images=64, epochs=10, run_dir=sys.argv[1],
             progress=False, image_size=32, batch_size=16, filters=8, latent_dim=16)
""")


def test_kill_9_while_writing_a_checkpoint_keeps_the_previous_one_latest(tmp_path):
    run_dir = tmp_path / "run"
    done = subprocess.run([sys.executable, "-c", KILL_DURING_SAVE, str(run_dir)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    checkpoints = run_dir / "checkpoints"
    assert list(checkpoints.glob(".writing-*")), "the kill should leave a half-written folder"
    latest = checkpoint.latest_checkpoint(checkpoints)
    assert latest.name == "ckpt-00000008"  # epochs 1 and 2 of 4 steps each completed
    resumed = gh.train(run_dir=run_dir, resume=True, epochs=3, progress=False)
    assert resumed.step == 12
    assert not list(checkpoints.glob(".writing-*"))  # cleaned up by the next save


def test_a_second_process_on_the_same_run_folder_is_refused(faces32, tmp_path, capsys):
    run_dir = tmp_path / "run"
    gh.train(images=faces32[:32], run_dir=run_dir, epochs=1, progress=False, **TINY)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time\n"
         "h = open(sys.argv[1], 'a+'); fcntl.flock(h, fcntl.LOCK_EX); h.seek(0); h.truncate();"
         "h.write(str(os.getpid())); h.flush(); print('locked', flush=True); time.sleep(60)",
         str(run_dir / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        code = cli.main(["train", "--resume", "--run-dir", str(run_dir), "--epochs", "2"])
        err = capsys.readouterr().err
        assert code == 2
        assert f"in use by another training process (pid {holder.pid})" in err
        assert len(err.strip().splitlines()) == 1
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone (as after a crash): the lock goes with it
    assert gh.train(run_dir=run_dir, resume=True, epochs=2, images=faces32[:32],
                    progress=False).epoch == 2


def test_a_failed_start_leaves_no_empty_run_folder_and_no_lock(faces32, tmp_path):
    run_dir = tmp_path / "run"
    with pytest.raises(ValueError, match="fewer than one batch"):
        gh.train(images=faces32[:8], run_dir=run_dir, epochs=1, progress=False, **TINY)
    assert not run_dir.exists()
    with checkpoint.RunLock(tmp_path / "other"):
        with pytest.raises(checkpoint.RunInUse):
            checkpoint.RunLock(tmp_path / "other").acquire()
    checkpoint.RunLock(tmp_path / "other").acquire().release()  # released on exit


class _FakeMsvcrt:
    """Windows' msvcrt.locking, in one process: exclusive byte ranges of a file."""
    LK_UNLCK, LK_NBLCK = 0, 2

    def __init__(self):
        self.held = {}

    def locking(self, fd, mode, nbytes):
        key = (os.path.realpath(f"/proc/self/fd/{fd}"), os.lseek(fd, 0, os.SEEK_CUR), nbytes)
        if mode == self.LK_NBLCK:
            if key in self.held:
                raise OSError(36, "Resource deadlock avoided")  # what Windows raises
            self.held[key] = fd
        else:
            del self.held[key]  # unlocking a range that is not locked fails on Windows too


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="the fake needs /proc/self/fd")
def test_the_windows_lock_path_refuses_a_second_holder_and_releases(tmp_path, monkeypatch):
    # Nothing here runs Windows: the msvcrt branch runs against a fake with its semantics.
    fake = _FakeMsvcrt()
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    monkeypatch.setattr(checkpoint, "_LOCKING", "msvcrt")
    first = checkpoint.RunLock(tmp_path / "run").acquire()
    [(path, offset, size)] = fake.held
    assert offset == checkpoint._MSVCRT_LOCK_OFFSET and size == 1  # far past the pid
    assert (tmp_path / "run" / ".lock").read_text() == str(os.getpid())
    with pytest.raises(checkpoint.RunInUse, match=f"pid {os.getpid()}"):
        checkpoint.RunLock(tmp_path / "run").acquire()
    first.release()
    assert not fake.held
    checkpoint.RunLock(tmp_path / "run").acquire().release()


def test_unwritable_or_full_run_folder_fails_before_training(faces32, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code = cli.main(["train", *TRAIN_ARGS, "--run-dir", str(blocker / "run")])
    assert code == 2
    assert "run folder" in capsys.readouterr().err

    class Usage:
        free = 5 * 2**20

    monkeypatch.setattr(checkpoint.shutil, "disk_usage", lambda path: Usage)
    with pytest.raises(ValueError, match=r"has 5 MiB free; a run needs about \d+ MiB"):
        gh.train(images=faces32[:32], run_dir=tmp_path / "full", epochs=1, progress=False, **TINY)


def test_a_dangling_latest_falls_back_to_the_newest_complete_checkpoint(faces32, tmp_path):
    run = gh.train(images=faces32[:64], run_dir=tmp_path / "run", epochs=2, progress=False, **TINY)
    checkpoints = run.checkpoint_dir
    (checkpoints / "latest").write_text("ckpt-00000099\n")  # as if killed mid-replace
    assert checkpoint.latest_checkpoint(checkpoints).name == "ckpt-00000008"
    assert gh.train(run_dir=run.run_dir, resume=True, epochs=3, images=faces32[:64],
                    progress=False).step == 12


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_a_read_only_run_folder_is_a_clear_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ValueError, match="cannot write to run folder"):
            checkpoint.check_writable(folder, 1)
    finally:
        folder.chmod(0o700)


def test_optimiser_state_is_saved_once_and_old_checkpoints_still_load(faces32, tmp_path):
    import warnings

    import h5py
    import numpy as np

    run = gh.train(images=faces32[:64], run_dir=tmp_path / "run", epochs=1, progress=False, **TINY)
    folder = checkpoint.latest_checkpoint(run.checkpoint_dir)
    with h5py.File(folder / "discriminator.weights.h5") as weights:
        assert "optimizer" not in weights  # its state is in d_optimizer.npz only
    # a checkpoint written before 2026-11-25 had a copy of D's optimiser in D's file
    run.discriminator.trainable = True
    run.discriminator.save_weights(folder / "discriminator.weights.h5")
    checkpoint._write_manifest(folder)  # a deliberate edit: the manifest must say so
    with h5py.File(folder / "discriminator.weights.h5") as weights:
        assert "optimizer" in weights
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # Keras warns when it skips variables
        resumed = gh.train(run_dir=run.run_dir, resume=True, epochs=2, images=faces32[:64],
                           progress=False)
    assert resumed.step == 8
    saved = np.load(folder / "d_optimizer.npz")
    assert len(saved.files) == len(resumed.discriminator.optimizer.variables)


def test_optimiser_state_is_matched_by_name_and_positional_checkpoints_still_load(faces32, tmp_path):
    import numpy as np

    run = gh.train(images=faces32[:64], run_dir=tmp_path / "run", epochs=1, progress=False, **TINY)
    folder = checkpoint.latest_checkpoint(run.checkpoint_dir)
    saved = dict(np.load(folder / "g_optimizer.npz"))
    # every layer of gan_helpers.core.models is named, so the slots have names, not positions
    assert {"iteration", "generator_up_16_kernel_momentum", "generator_to_image_bias_velocity",
            "generator_bn_8_gamma_momentum"} <= set(saved)
    # ... and a second build in the same process has the same names (no Keras counters)
    again = gh.build_generator(TINY["latent_dim"], 32, filters=8)
    assert [v.path for v in again.weights] == [v.path for v in run.generator.weights]
    # shuffled by name, loaded by name: each slot lands on its own variable
    generator, _, gan = gh.core.training.build_models(run.config, seed=1)
    shuffled = dict(reversed(list(saved.items())))
    checkpoint.restore_optimizer_state(gan.optimizer, generator.trainable_variables, shuffled, "generator")
    for variable in gan.optimizer.variables:
        np.testing.assert_array_equal(variable.numpy(), saved[variable.name])
    # a checkpoint from before 2026-11-26 keyed the same slots by position: it still resumes
    names = [v.name for v in run.gan.optimizer.variables]
    np.savez(folder / "g_optimizer.npz", **{f"{i:04d}": saved[name] for i, name in enumerate(names)})
    checkpoint._write_manifest(folder)  # a deliberate edit: the manifest must say so
    resumed = gh.train(run_dir=run.run_dir, resume=True, epochs=2, images=faces32[:64], progress=False)
    assert resumed.step == 8
    # a slot the model does not have is named in a one-line error
    renamed = {("generator_up_99_kernel_momentum" if k == "generator_up_16_kernel_momentum" else k): v
               for k, v in saved.items()}
    generator, _, gan = gh.core.training.build_models(run.config, seed=1)
    with pytest.raises(ValueError, match=r"no variable 'generator_up_16_kernel_momentum'"):
        checkpoint.restore_optimizer_state(gan.optimizer, generator.trainable_variables, renamed,
                                           "generator")
