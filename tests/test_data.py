import warnings

import numpy as np
import pytest
from PIL import Image

import gan_helpers as gh
from gan_helpers.core import data
from gan_helpers.core.config import rng_stream


def test_folder_loads_good_images_and_names_bad_ones(mixed_folder, tmp_path):
    folder, good, bad = mixed_folder
    with pytest.warns(UserWarning, match=r"skipped 3 of \d+ files") as caught:
        images, skipped = data.load_image_folder(folder, 32, cache_dir=tmp_path / "cache",
                                                 progress=False)
    assert images.shape == (len(good), 32, 32, 3) and images.dtype == np.uint8
    assert sorted(p.rsplit("/", 1)[-1] for p, _ in skipped) == bad
    message = str(caught[0].message)
    assert all(name in message for name in bad)
    assert "hidden.png" not in " ".join(p for p, _ in skipped)


def test_folder_conversions(mixed_folder, tmp_path):
    folder, good, bad = mixed_folder
    files = data.list_image_files(folder)
    names = [str(p.relative_to(folder)) for p in files]
    # recursive, any case of extension, hidden folder and non-image files skipped
    assert sorted(names) == sorted(good + bad)
    by_name = {name: data.load_image_file(folder / name, 16) for name in good}
    assert (by_name["transparent.png"] == 255).all()  # transparency composited on white
    assert by_name["gray.jpeg"].shape == (16, 16, 3)  # grayscale -> RGB
    assert by_name["anim.gif"][..., 1].mean() < 60  # first frame (red), not the green second
    assert by_name["sixteen.png"].max() > 100  # 16-bit rescaled, not clipped to white
    assert by_name["sixteen.png"].min() < 50


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 20, 20))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed rotated 90 degrees clockwise: red ends up on top
    image.save(tmp_path / "r.jpg", format="JPEG", exif=exif.tobytes(), quality=95)
    loaded = data.load_image_file(tmp_path / "r.jpg", 20).astype(int)
    top, bottom = loaded[:5].mean(axis=(0, 1)), loaded[-5:].mean(axis=(0, 1))
    assert top[0] > 200 and bottom[2] > 200


def test_non_square_images_are_centre_cropped():
    image = Image.new("RGB", (90, 30), (255, 0, 0))
    image.paste((0, 255, 0), (30, 0, 60, 30))  # the centre third is green
    square = np.asarray(data.center_crop_resize(image, 30))
    assert square.shape == (30, 30, 3) and (square[..., 1] == 255).all()


def test_decoded_folder_is_cached(mixed_folder, tmp_path, monkeypatch):
    folder, good, _ = mixed_folder
    cache = tmp_path / "cache"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first, _ = data.load_image_folder(folder, 32, cache_dir=cache, progress=False)

        def fail(*args, **kwargs):
            raise AssertionError("decoded again despite the cache")

        monkeypatch.setattr(data, "load_image_file", fail)
        second, skipped = data.load_image_folder(folder, 32, cache_dir=cache, progress=False)
    assert np.array_equal(first, second) and len(skipped) == 3


def test_missing_and_empty_folders_are_one_line_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="image folder not found: .*nowhere"):
        data.load_image_folder(tmp_path / "nowhere", 32)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images .* found in .*empty"):
        data.load_image_folder(tmp_path / "empty", 32)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.png").write_bytes(b"")
    with pytest.raises(ValueError, match="none of the 1 image files"), pytest.warns(UserWarning):
        data.load_image_folder(tmp_path / "junk", 32, cache_dir=False)
    with pytest.raises(FileNotFoundError, match="neither a built-in dataset"):
        data.load_dataset("no-such-dataset", 32)


def test_committed_sample_matches_a_fresh_render():
    """Pins the DiceBear/resvg versions: a release that changes the pixels fails here."""
    sample = data.load_cartoon_faces(8, 64)
    rendered = data.render_cartoon_faces(8, 64, progress=False)
    assert sample.shape == rendered.shape == (8, 64, 64, 3)
    assert np.abs(sample.astype(int) - rendered.astype(int)).max() <= 1


def test_cartoon_faces_are_deterministic_varied_and_cached(tmp_path):
    a = data.load_cartoon_faces(6, 32, seed=7, cache_dir=tmp_path)
    assert (tmp_path / "cartoon-faces-seed7-32px-6.npy").exists()
    b = data.render_cartoon_faces(6, 32, seed=7, progress=False)
    assert np.array_equal(a, b)
    assert len({face.tobytes() for face in a}) == 6  # all different faces
    assert a[:, 0, 0].min() >= 250  # background composited on white
    c = data.render_cartoon_faces(6, 32, seed=8, progress=False)
    assert not np.array_equal(a, c)


def test_sample_serves_small_sizes_and_the_default_count_in_quick_mode(faces32):
    assert faces32.shape == (320, 32, 32, 3)
    assert data.load_cartoon_faces(10, 64).shape == (10, 64, 64, 3)


def test_pipeline_batches_scaled_constant_and_reproducible(faces32):
    dataset = data.make_dataset(faces32[:100], batch_size=32, seed=1, epoch=0)
    batches = [b.numpy() for b in dataset]
    assert len(batches) == 3  # 100 // 32, the remainder is dropped
    assert all(b.shape == (32, 32, 32, 3) and b.dtype == np.float32 for b in batches)
    assert min(b.min() for b in batches) >= -1.0 and max(b.max() for b in batches) <= 1.0
    again = [b.numpy() for b in data.make_dataset(faces32[:100], batch_size=32, seed=1, epoch=0)]
    assert all(np.array_equal(x, y) for x, y in zip(batches, again))
    other = [b.numpy() for b in data.make_dataset(faces32[:100], batch_size=32, seed=1, epoch=1)]
    assert not np.array_equal(batches[0], other[0])
    tail = [b.numpy() for b in data.make_dataset(faces32[:100], 32, seed=1, epoch=0, skip_batches=2)]
    assert len(tail) == 1 and np.array_equal(tail[0], batches[2])


def test_numpy_batches_equal_the_tf_data_pipeline(faces32):
    plan = dict(batch_size=16, seed=3, epoch=2, skip_batches=1)
    from_tf = [b.numpy() for b in data.make_dataset(faces32[:80], **plan)]
    from_numpy = list(data.iterate_batches(faces32[:80], **plan))
    assert len(from_tf) == len(from_numpy) == 4
    for a, b in zip(from_tf, from_numpy):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_pipeline_flips_some_images_horizontally(faces32):
    images = faces32[:64]
    plain = data.make_dataset(images, 64, shuffle=False, flip=False).get_single_element().numpy()
    flipped = data.make_dataset(images, 64, shuffle=False, flip=True).get_single_element().numpy()
    same = [np.array_equal(a, b) for a, b in zip(plain, flipped)]
    mirrored = [np.array_equal(a[:, ::-1], b) for a, b in zip(plain, flipped)]
    assert all(s or m for s, m in zip(same, mirrored))
    assert 10 < sum(mirrored) < 54


def test_pipeline_rejects_bad_input(faces32):
    with pytest.raises(ValueError, match="larger than the dataset"):
        data.make_dataset(faces32[:10], batch_size=32)
    with pytest.raises(ValueError, match="uint8"):
        data.make_dataset(faces32.astype(np.float32), batch_size=32)


def test_scale_round_trip():
    pixels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    scaled = gh.scale_images(pixels)
    assert scaled.min() == -1.0 and scaled.max() == 1.0
    assert np.array_equal(gh.unscale_images(scaled), pixels)


def test_messy_folder_has_odd_sizes_and_exactly_three_broken_files(tmp_path):
    folder = data.make_messy_folder(tmp_path / "messy", count=12)
    sizes, unreadable = data.scan_image_sizes(folder)
    assert len(sizes) >= 12 and len(unreadable) == 2  # the truncated PNG still has a header
    ratios = sizes[:, 0] / sizes[:, 1]
    assert ratios.min() < 0.9 and ratios.max() > 1.1
    with pytest.warns(UserWarning, match="skipped 3 of 15"):
        images, skipped = data.load_image_folder(folder, 32, cache_dir=False, progress=False)
    assert images.shape == (12, 32, 32, 3)
    assert sorted(p.rsplit("/", 1)[-1] for p, _ in skipped) == [
        "empty.png", "not_an_image.jpg", "truncated.png"]


@pytest.mark.skipif(not data.NOTO_EMOJI_FONT.exists(), reason="fonts-noto-color-emoji not installed")
def test_noto_emoji_faces_render_centred_on_white():
    faces = gh.load_dataset("noto-emoji", 32)
    assert faces.shape == (len(data.EMOJI_FACES), 32, 32, 3) and faces.dtype == np.uint8
    assert (faces[:, 0, 0] == 255).all()  # white corners
    assert len({face.tobytes() for face in faces}) == len(faces)  # all different


def test_missing_emoji_font_says_how_to_install_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install fonts-noto-color-emoji"):
        data.render_emoji_faces(32, font_path=tmp_path / "missing.ttf")


def test_a_cached_folder_is_memory_mapped_not_read_into_memory(mixed_folder, tmp_path):
    folder, good, bad = mixed_folder
    cache = tmp_path / "cache"
    with pytest.warns(UserWarning, match="skipped 3"):
        first, _ = data.load_image_folder(folder, 32, cache_dir=cache, progress=False)
    with pytest.warns(UserWarning, match="skipped 3"):
        again, _ = data.load_image_folder(folder, 32, cache_dir=cache, progress=False)
    for images in (first, again):
        assert isinstance(images, np.memmap) and images.shape == (len(good), 32, 32, 3)
        assert not images.flags.writeable  # the cache cannot be changed by accident
    assert np.array_equal(first, again)
    leftovers = [p.name for p in (cache / "folders").iterdir() if ".tmp" in p.name]
    assert leftovers == []
    batch = next(data.iterate_batches(first, batch_size=4, seed=1))  # reads only its rows
    assert batch.shape == (4, 32, 32, 3) and batch.dtype == np.float32


def test_repeat_shows_every_image_that_often_by_index(tmp_path):
    indices, _ = data.batch_plan(10, batch_size=5, seed=3, repeat=3)
    assert indices.shape == (6, 5)
    assert np.bincount(indices.ravel(), minlength=10).tolist() == [3] * 10
    # the same plan as concatenating the pixels three times, without the copies
    order = rng_stream(3, "batches", 0).permutation(30)
    assert np.array_equal(indices.ravel(), order % 10)
    images = np.arange(10, dtype=np.uint8)[:, None, None, None].repeat(2, 1).repeat(2, 2).repeat(3, 3)
    seen = np.concatenate([b[:, 0, 0, 0] for b in data.iterate_batches(
        images, batch_size=5, seed=3, repeat=3, flip=False)])
    assert np.allclose(seen, images[order % 10][:, 0, 0, 0] / 127.5 - 1)
    with pytest.raises(ValueError, match="repeat must be a positive integer"):
        data.batch_plan(10, 5, repeat=0)


def test_iterate_batches_can_name_the_rows_of_each_batch():
    images = np.arange(10, dtype=np.uint8)[:, None, None, None].repeat(2, 1).repeat(2, 2).repeat(3, 3)
    plain = list(data.iterate_batches(images, batch_size=4, seed=5, flip=False))
    named = list(data.iterate_batches(images, batch_size=4, seed=5, flip=False, with_indices=True))
    indices, _ = data.batch_plan(10, 4, seed=5, flip=False)
    assert len(named) == len(plain) == len(indices)
    for batch, (same, index), planned in zip(plain, named, indices):
        assert np.array_equal(batch, same) and np.array_equal(index, planned)
        assert np.allclose(batch[:, 0, 0, 0], images[index][:, 0, 0, 0] / 127.5 - 1)
