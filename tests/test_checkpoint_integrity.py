"""Checkpoints on Google Drive: "latest" names only a whole checkpoint (its manifest's sizes
and checksums match), pruned files go to Drive's trash empty, and a run folder on Drive is
refused while Drive is not mounted. The damage is done for real to tiny runs."""
import hashlib
import json
import os
import shutil

import pytest

import gan_helpers as gh
from gan_helpers.core import checkpoint

TINY = dict(image_size=32, batch_size=16, filters=8, latent_dim=16)
FIRST, SECOND = "ckpt-00000004", "ckpt-00000008"  # 64 images, batch 16: 4 steps an epoch


@pytest.fixture(scope="module")
def trained(faces32, tmp_path_factory):
    """A run of two epochs (checkpoints at steps 4 and 8), trained once for the module."""
    run_dir = tmp_path_factory.mktemp("trained") / "run"
    gh.train(images=faces32[:64], run_dir=run_dir, epochs=2, progress=False, **TINY)
    return run_dir


@pytest.fixture
def run_dir(trained, tmp_path):
    """A copy of the trained run that a test may damage."""
    return shutil.copytree(trained, tmp_path / "run")


def _truncate(path):
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)
    return f"{path.name}: {size // 2:,} of {size:,} bytes"


def _delete(path):
    path.unlink()
    return f"{path.name} is missing"


def _alter(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte different
    path.write_bytes(bytes(data))
    return f"{path.name} does not match its checksum"


def _history_steps(run_dir):
    return [row["step"] for row in gh.read_history(run_dir)]


def test_a_checkpoint_lists_every_file_with_its_size_and_checksum(run_dir):
    folder = checkpoint.latest_checkpoint(run_dir / "checkpoints")
    assert folder.name == SECOND
    listed = json.loads((folder / "manifest.json").read_text())["files"]
    assert sorted(listed) == sorted(checkpoint.FILES)
    for name, entry in listed.items():
        assert entry["bytes"] == (folder / name).stat().st_size > 0
        assert entry["sha256"] == hashlib.sha256((folder / name).read_bytes()).hexdigest()
    assert json.loads((folder / "state.json").read_text())["manifest"] == "manifest.json"


@pytest.mark.parametrize("damage, name", [(_truncate, "discriminator.weights.h5"),
                                          (_delete, "g_optimizer.npz"),
                                          (_alter, "generator.weights.h5")])
def test_a_damaged_newest_checkpoint_falls_back_to_the_one_before(run_dir, faces32, damage, name):
    checkpoints = run_dir / "checkpoints"
    why = damage(checkpoints / SECOND / name)
    with pytest.warns(UserWarning) as caught:
        assert checkpoint.latest_checkpoint(checkpoints) == checkpoints / FIRST
    [message] = [str(w.message) for w in caught]
    assert message == f"{checkpoints / SECOND} is incomplete ({why}): using {FIRST} instead"
    assert gh.find_run([run_dir]) == run_dir  # notebooks 06-08 find it still

    resumed = gh.train(run_dir=run_dir, resume=True, epochs=3, images=faces32[:64], progress=False)
    assert resumed.step == 12
    assert _history_steps(run_dir) == list(range(1, 13))  # steps 5-8 trained again, once
    # the damaged folder was replaced at step 8; the two kept are whole
    kept = [p.name for p in checkpoint._checkpoint_folders(checkpoints)]
    assert kept == ["ckpt-00000012", SECOND]
    assert all(checkpoint._incomplete(p) is None for p in checkpoints.glob("ckpt-*"))
    assert checkpoint.latest_checkpoint(checkpoints).name == "ckpt-00000012"


def test_when_no_checkpoint_is_whole_there_is_none_and_resume_says_so(run_dir, faces32):
    checkpoints = run_dir / "checkpoints"
    _truncate(checkpoints / SECOND / "arrays.npz")
    _delete(checkpoints / FIRST / "state.json")
    with pytest.warns(UserWarning, match=r"ckpt-00000008 is incomplete \(arrays.npz: .* bytes\), "
                                         r"and no earlier checkpoint is whole"):
        assert checkpoint.latest_checkpoint(checkpoints) is None
    assert gh.find_run([run_dir]) is None
    # as with no checkpoint at all: resume=True refuses, and nothing in the folder changes
    before = sorted(p.name for p in checkpoints.iterdir())
    with pytest.raises(FileNotFoundError, match="cannot resume: no complete checkpoint"):
        gh.train(run_dir=run_dir, resume=True, epochs=3, images=faces32[:64], progress=False)
    assert sorted(p.name for p in checkpoints.iterdir()) == before
    # resume="auto" (the notebooks) says what is wrong instead of "pass resume=True"
    with pytest.raises(ValueError, match=r"holds checkpoints but none is whole .* delete "):
        gh.train(run_dir=run_dir, resume="auto", epochs=3, images=faces32[:64], progress=False)


def test_a_damaged_manifest_or_a_missing_one_makes_a_checkpoint_incomplete(run_dir):
    folder = run_dir / "checkpoints" / SECOND
    manifest = folder / "manifest.json"
    text = manifest.read_text()
    manifest.write_text(text[: len(text) // 2])  # cut short in transit
    assert checkpoint._incomplete(folder) == "manifest.json is unreadable"
    manifest.unlink()  # not arrived: state.json says there is one
    assert checkpoint._incomplete(folder) == "manifest.json is missing"
    with pytest.warns(UserWarning, match=r"\(manifest.json is missing\): using ckpt-00000004"):
        assert checkpoint.latest_checkpoint(run_dir / "checkpoints").name == FIRST


def _as_before_manifests(folder):
    """Make a checkpoint look like one written before manifests: no manifest.json, and no
    mention of one in state.json."""
    (folder / "manifest.json").unlink()
    state = json.loads((folder / "state.json").read_text())
    del state["manifest"]
    (folder / "state.json").write_text(json.dumps(state))


def test_a_checkpoint_from_before_manifests_still_resumes(run_dir, faces32, recwarn):
    checkpoints = run_dir / "checkpoints"
    for name in (FIRST, SECOND):
        _as_before_manifests(checkpoints / name)
    assert checkpoint.latest_checkpoint(checkpoints) == checkpoints / SECOND
    assert gh.load_run(run_dir).step == 8
    assert not [w for w in recwarn if "incomplete" in str(w.message)]
    # ... and one of them missing a file is incomplete: the one before it is used
    _delete(checkpoints / SECOND / "d_optimizer.npz")
    with pytest.warns(UserWarning, match=r"\(d_optimizer.npz is missing\): using ckpt-00000004"):
        assert checkpoint.latest_checkpoint(checkpoints) == checkpoints / FIRST
    resumed = gh.train(run_dir=run_dir, resume=True, epochs=3, images=faces32[:64], progress=False)
    assert resumed.step == 12 and _history_steps(run_dir) == list(range(1, 13))


def test_prune_keeps_the_checkpoint_latest_would_fall_back_to(run_dir):
    checkpoints = run_dir / "checkpoints"
    _truncate(checkpoints / SECOND / "arrays.npz")
    newest = shutil.copytree(checkpoints / FIRST, checkpoints / "ckpt-00000012")  # whole
    checkpoint.write_text_atomic(checkpoints / "latest", newest.name + "\n")
    checkpoint._prune(checkpoints, keep=newest.name)
    # by name the two newest were 8 and 12; but 8 is broken and 4 is the fallback
    assert sorted(p.name for p in checkpoints.glob("ckpt-*")) == [FIRST, newest.name]
    _truncate(newest / "generator.weights.h5")
    with pytest.warns(UserWarning, match="using ckpt-00000004 instead"):
        assert checkpoint.latest_checkpoint(checkpoints) == checkpoints / FIRST


def test_pruned_files_are_emptied_before_they_are_deleted(run_dir, faces32, monkeypatch):
    checkpoints = run_dir / "checkpoints"
    stale = checkpoints / ".writing-abc123"  # an interrupted write, with a subfolder
    (stale / "sub").mkdir(parents=True)
    (stale / "generator.weights.h5").write_bytes(b"x" * 5000)
    (stale / "sub" / "more.bin").write_bytes(b"y" * 100)
    outside = run_dir / "keep-me.txt"
    outside.write_text("not part of any checkpoint")
    (stale / "link").symlink_to(outside)
    (stale / "sub" / "folder-link").symlink_to(run_dir, target_is_directory=True)
    real_unlink, trash = os.unlink, {}

    def into_the_trash(path, *args, **kwargs):  # as on Drive: what is deleted is kept
        if str(path).startswith(str(checkpoints)) and not os.path.islink(path):
            trash[str(path)] = os.stat(path).st_size
        real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", into_the_trash)
    resumed = gh.train(run_dir=run_dir, resume=True, epochs=3, images=faces32[:64], progress=False)
    assert resumed.step == 12
    pruned = {path for path in trash if f"/{FIRST}/" in path}
    assert len(pruned) == len(checkpoint.FILES) + 1  # and its manifest
    assert any("/.writing-abc123/sub/" in path for path in trash)
    assert trash and all(size == 0 for size in trash.values()), trash
    assert not (checkpoints / FIRST).exists() and not stale.exists()
    assert outside.read_text() == "not part of any checkpoint"  # links are not followed
    assert (run_dir / "config.json").stat().st_size > 0


def test_remove_tree_empties_every_file_and_deletes_one_it_cannot_empty(tmp_path, monkeypatch):
    folder = tmp_path / "ckpt-00000004"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.npz").write_bytes(b"a" * 300)
    (folder / "sub" / "b.npz").write_bytes(b"b" * 300)
    (folder / "read-only.npz").write_bytes(b"c" * 300)
    (folder / "read-only.npz").chmod(0o444)
    real_unlink, sizes = os.unlink, {}

    def recording(path, *args, **kwargs):
        sizes[os.path.basename(path)] = os.stat(path).st_size
        real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", recording)
    checkpoint._remove_tree(folder)
    assert not folder.exists()
    assert sizes["a.npz"] == sizes["b.npz"] == 0
    assert "read-only.npz" in sizes  # emptied too where it may be (root), deleted either way
    with pytest.raises(FileNotFoundError):
        checkpoint._remove_tree(folder)
    checkpoint._remove_tree(folder, ignore_errors=True)


@pytest.fixture
def drive(tmp_path, monkeypatch):
    """A stand-in for /content/drive: the empty folder Colab leaves when Drive is unmounted."""
    mount = tmp_path / "content" / "drive"
    mount.mkdir(parents=True)
    monkeypatch.setattr(checkpoint, "DRIVE_MOUNT", mount)
    monkeypatch.setattr(os.path, "ismount", lambda path: False)
    return mount


def test_a_run_folder_on_an_unmounted_drive_is_refused_before_anything_is_made(drive, tmp_path,
                                                                                 faces32):
    run_dir = drive / "MyDrive" / "cartoon-gan" / "runs" / "x"
    with pytest.raises(ValueError) as error:
        checkpoint.check_writable(run_dir, 1)
    assert str(error.value) == (
        f"run folder {run_dir} is on Google Drive, which is not mounted now (a notebook's last "
        f"cell unmounts it): run the notebook's setup cell again to mount it")
    assert not (drive / "MyDrive").exists()
    # the notebooks' call: nothing is trained, nothing is made
    with pytest.raises(ValueError, match="which is not mounted now"):
        gh.train(images=faces32[:32], run_dir=run_dir, epochs=1, progress=False, resume="auto",
                 **TINY)
    assert list(drive.iterdir()) == []
    # through a link to the Drive folder too
    shortcut = tmp_path / "mydrive"
    shortcut.symlink_to(drive / "MyDrive", target_is_directory=True)
    with pytest.raises(ValueError, match="is on Google Drive"):
        checkpoint.check_writable(shortcut / "runs" / "x", 1)
    # resuming names Drive too, not "run folder not found"; so does a comparison (notebook 07)
    with pytest.raises(ValueError, match="which is not mounted now"):
        gh.train(run_dir=run_dir, resume=True, progress=False)
    from gan_helpers.evaluation.compare import compare_presets
    with pytest.raises(ValueError, match="which is not mounted now"):
        compare_presets(["cartoon"], [0], out_dir=drive / "MyDrive" / "compare")
    assert list(drive.iterdir()) == []
    # a folder elsewhere is not Drive's business
    checkpoint.check_writable(tmp_path / "local" / "run", 1)
    assert (tmp_path / "local" / "run").is_dir()


def test_a_run_folder_on_a_mounted_drive_is_accepted(drive, monkeypatch):
    monkeypatch.setattr(os.path, "ismount",
                        lambda path: os.path.realpath(path) == os.path.realpath(drive))
    run_dir = drive / "MyDrive" / "cartoon-gan" / "runs" / "x"
    checkpoint.check_writable(run_dir, 1)
    assert run_dir.is_dir() and list(run_dir.iterdir()) == []  # the probe file is gone
