"""The preset comparison: same budget and seeds, SWD per epoch, resumable, a summary table."""
import inspect
import json

import pytest
from project_files import ROOT

from gan_helpers import cli
from gan_helpers.core.config import COMPARE_PRESETS, DEFAULT_PRESET, PRESETS, QUICK, make_config
from gan_helpers.evaluation.compare import compare_presets, markdown_tables, summarize

TINY = dict(image_size=32, filters=8, latent_dim=16, batch_size=16)


def test_compare_scores_every_epoch_of_every_run_and_summarises(tmp_path):
    out = tmp_path / "compare"
    results = compare_presets(["mlwhiz", "cartoon"], [0, 1], epochs=2, out_dir=out,
                              num_images=32, count=16, progress=False, **TINY)
    assert set(results["runs"]) == {"mlwhiz-seed0", "mlwhiz-seed1", "cartoon-seed0", "cartoon-seed1"}
    for record in results["runs"].values():
        assert [p["epoch"] for p in record["curve"]] == [1, 2]
        assert [p["step"] for p in record["curve"]] == [2, 4]  # same budget for every preset
        assert {"swd_32", "swd_16", "swd_mean", "diversity"} <= set(record["curve"][0])
        # After the last epoch: compute spent and the attribute network's scores.
        assert record["tflop"] > 0
        assert 0 <= record["final"]["near_duplicates"]["share"] <= 1
        assert {"fd", "precision", "recall", "coverage"} <= set(record["final"]["attributes"])
    assert "attributes" in results["final_real_floor"]
    table = summarize(results)
    assert {row["preset"] for row in table} == {"mlwhiz", "cartoon"}
    assert all({"coverage", "recall", "near_duplicates"} <= set(row) for row in table)
    assert all(row["seeds"] == 2 for row in table)
    assert [row["swd_mean"] for row in table] == sorted(row["swd_mean"] for row in table)
    assert json.loads((out / "results.json").read_text())["protocol"]["epochs"] == 2
    assert (out / "swd.png").exists() and (out / "samples.png").exists()
    page = markdown_tables(results)
    assert "| `mlwhiz` | 2 | 4 | " in page and "coverage" in page and "| cartoon-seed1 |" in page and "epoch 2" in page

    # Asking for more epochs continues the finished runs instead of starting over.
    more = compare_presets(["mlwhiz"], [0], epochs=3, out_dir=out, num_images=32, count=16,
                           progress=False, **TINY)
    assert [p["step"] for p in more["runs"]["mlwhiz-seed0"]["curve"]] == [2, 4, 6]


def test_finished_runs_scored_by_an_older_classifier_are_scored_again(tmp_path):
    from gan_helpers.evaluation.attributes import CLASSIFIER_VERSION

    out = tmp_path / "compare"
    first = compare_presets(["mlwhiz"], [0], epochs=1, out_dir=out, num_images=32, count=16,
                            progress=False, **TINY)
    final = first["runs"]["mlwhiz-seed0"]["final"]
    assert final["classifier_version"] == CLASSIFIER_VERSION
    # Pretend the stored scores came from an older classifier and changed since.
    results = json.loads((out / "results.json").read_text())
    results["runs"]["mlwhiz-seed0"]["final"]["classifier_version"] = CLASSIFIER_VERSION - 1
    results["runs"]["mlwhiz-seed0"]["final"]["attributes"]["fd"] = -1.0
    (out / "results.json").write_text(json.dumps(results))
    again = compare_presets(["mlwhiz"], [0], epochs=1, out_dir=out, num_images=32, count=16,
                            progress=False, **TINY)
    record = again["runs"]["mlwhiz-seed0"]
    assert record["final"]["classifier_version"] == CLASSIFIER_VERSION
    # The same generator and protocol: the attribute scores come back, nothing is retrained.
    assert record["final"]["attributes"]["fd"] == pytest.approx(final["attributes"]["fd"], rel=1e-3)
    assert [p["step"] for p in record["curve"]] == [p["step"] for p in first["runs"]["mlwhiz-seed0"]["curve"]]


def test_compare_can_give_each_preset_its_own_epochs(tmp_path):
    # "preset": every preset trains for its own epochs (shrunk to 1 in quick mode).
    results = compare_presets(["mlwhiz"], [0], epochs="preset", out_dir=tmp_path, num_images=32,
                              count=16, progress=False, **TINY)
    record = results["runs"]["mlwhiz-seed0"]
    assert record["epochs_done"] == (1 if QUICK else make_config("mlwhiz").epochs)
    assert results["protocol"]["epochs"] == "preset"
    with pytest.raises(ValueError, match="positive integer or 'preset'"):
        compare_presets(["mlwhiz"], [0], epochs="all", out_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="use it with epochs='preset'"):
        compare_presets(["mlwhiz"], [0], epochs=2, budget=0.5, out_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"budget must be in \(0, 1\]"):
        compare_presets(["mlwhiz"], [0], epochs="preset", budget=2, out_dir=tmp_path,
                        progress=False)


def test_compare_budget_scales_each_presets_epochs(tmp_path):
    # A quarter of the compute: cartoon's 46 epochs become 12 and mlwhiz's 12 become 3.
    results = compare_presets(["mlwhiz"], [0], epochs="preset", budget=0.25, out_dir=tmp_path,
                              num_images=32, count=16, progress=False, **TINY)
    assert results["runs"]["mlwhiz-seed0"]["epochs_done"] == (1 if QUICK else 3)
    assert results["protocol"]["budget"] == 0.25


def test_presets_of_different_batch_sizes_compare_at_the_same_images_and_flops(tmp_path):
    # cartoon (batch 32) against dcgan (batch 64), with the same models (neither has
    # minibatch-std here): one epoch of 64 images is two steps against one, and the same compute.
    tiny = {k: v for k, v in TINY.items() if k != "batch_size"}
    results = compare_presets(["cartoon", "dcgan"], [0], epochs=1, out_dir=tmp_path,
                              num_images=64, count=16, progress=False, minibatch_std=0, **tiny)
    small, large = results["runs"]["cartoon-seed0"], results["runs"]["dcgan-seed0"]
    assert [p["step"] for p in small["curve"]] == [2]
    assert [p["step"] for p in large["curve"]] == [1]
    assert small["tflop"] == pytest.approx(large["tflop"], rel=1e-6)


def test_presets_of_different_shapes_cannot_be_compared(tmp_path):
    with pytest.raises(ValueError, match="must share image_size"):
        compare_presets(["mlwhiz", "surma"], [0], epochs=1, out_dir=tmp_path, progress=False)


def test_cli_rejects_bad_seeds_and_presets(tmp_path, capsys):
    assert cli.main(["compare", "--seeds", "a,b", "--out", str(tmp_path)]) == 2
    assert "--seeds must be comma-separated integers" in capsys.readouterr().err
    assert cli.main(["compare", "--presets", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown preset 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        cli.main(["compare", "--epochs", "all", "--out", str(tmp_path)])
    assert stop.value.code == 2
    assert "positive integer or 'preset'" in capsys.readouterr().err


def test_default_comparison_is_the_seed_recipes_the_previous_default_and_the_default():
    compare_parser = cli.build_parser()._subparsers._group_actions[0].choices["compare"]
    presets = compare_parser.get_default("presets").split(",")
    assert presets == list(inspect.signature(compare_presets).parameters["presets"].default)
    assert set(presets) <= set(PRESETS)
    assert presets[-2:] == ["cartoon-v5", DEFAULT_PRESET] and {"mlwhiz", "dcgan"} <= set(presets)


def test_compare_and_evaluate_give_the_same_generator_the_same_numbers(tmp_path):
    # One protocol: the same data and count draw the same real sets, the same seed and count
    # the same noise, so compare's last epoch and evaluate of the run's checkpoint agree
    # (to the last digit on a CPU; the tolerance is for GPU kernels that need not be
    # bit-reproducible).
    from gan_helpers.evaluation.evaluate import evaluate_run

    results = compare_presets(["mlwhiz"], [0], epochs=1, out_dir=tmp_path, count=32,
                              progress=False, **TINY)  # all the built-in faces, as evaluate
    record = results["runs"]["mlwhiz-seed0"]
    evaluated = evaluate_run(tmp_path / "mlwhiz-seed0", count=32)
    assert evaluated["step"] == record["curve"][-1]["step"]
    assert evaluated["protocol"]["images_per_set"] == results["protocol"]["images_per_set"] == 32
    point = record["curve"][-1]
    assert {k: point[k] for k in evaluated["swd"]} == pytest.approx(evaluated["swd"], rel=1e-6)
    assert point["diversity"] == pytest.approx(evaluated["diversity"], abs=1e-3)
    assert results["swd_real_floor"] == pytest.approx(evaluated["swd_real_floor"], rel=1e-9)
    final, floor = record["final"], results["final_real_floor"]
    assert final["near_duplicates"] == pytest.approx(evaluated["near_duplicates"], abs=1e-4)
    for key in ("fd", "precision", "recall", "neighbour_coverage", "feature_spread"):
        assert final["attributes"][key] == pytest.approx(evaluated["attributes"][key], rel=1e-5)
        assert floor["attributes"][key] == pytest.approx(evaluated["attributes_real_floor"][key],
                                                         rel=1e-9)
    for key in ("coverage", "certainty"):
        assert final["attributes"][key] == pytest.approx(evaluated["attributes"][key], abs=1e-4)


def test_a_results_file_scored_the_old_way_is_not_continued(tmp_path):
    """Its curves were scored against another real reference set: continuing it would mix
    two protocols in one curve, so compare refuses before training anything."""
    import json

    from gan_helpers.evaluation.compare import compare_presets

    out = tmp_path / "compare"
    out.mkdir()
    (out / "results.json").write_text(json.dumps(
        {"protocol": {"data": "cartoon-faces"}, "runs": {"cartoon-seed0": {"epochs_done": 1}}}))
    with pytest.raises(ValueError, match=r"results.json holds runs scored against another real "
                                         r"reference set"):
        compare_presets(["cartoon"], [0], out_dir=out)


COMMITTED = ROOT / "data" / "compare"


def test_the_committed_comparison_is_whole_and_scored_the_current_way():
    """data/compare holds the full comparison notebook 07 shows (and reads with TRAIN = False):
    every default recipe, both seeds, each trained to a quarter of its own epochs."""
    from PIL import Image

    from gan_helpers.evaluation.attributes import CLASSIFIER_VERSION
    from gan_helpers.evaluation.compare import SCORED_AS, read_results

    results = read_results(COMMITTED / "results.json")
    protocol = results["protocol"]
    assert protocol["scored_as"] == SCORED_AS and protocol["data"] == "cartoon-faces"
    assert (protocol["epochs"], protocol["budget"], protocol["num_images"]) == ("preset", 0.25, 10_000)
    assert not protocol["overrides"]
    assert sorted(results["runs"]) == sorted(f"{p}-seed{s}" for p in COMPARE_PRESETS for s in (0, 1))
    for record in results["runs"].values():
        epochs = round(make_config(record["preset"]).epochs * 0.25)
        assert record["epochs_done"] == epochs == len(record["curve"])
        assert record["final"]["classifier_version"] == CLASSIFIER_VERSION
    assert {row["preset"] for row in summarize(results)} == set(COMPARE_PRESETS)
    with Image.open(COMMITTED / "samples.png") as picture:  # one row of samples per run
        assert picture.height > picture.width


def test_read_results_names_the_file_it_cannot_read(tmp_path):
    from gan_helpers.evaluation.compare import read_results

    with pytest.raises(FileNotFoundError, match=r"nowhere.json: no comparison results there"):
        read_results(tmp_path / "nowhere.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"runs": {', encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken.json is not a comparison's results.json"):
        read_results(broken)
    other = tmp_path / "config.json"
    other.write_text('{"config": {}}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"config.json is not a comparison's results.json: it "
                                         r"lacks 'protocol' or 'runs'"):
        read_results(other)


def test_notebook_07_shows_the_committed_comparison_without_training(monkeypatch):
    """TRAIN = False: every cell runs on data/compare and the committed generator."""
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("GAN_QUICK", "1")
    notebook = nbformat.read(ROOT / "notebooks" / "07_compare_recipes.ipynb", as_version=4)
    configure = [c for c in notebook.cells if "TRAIN = True" in c.source]
    assert len(configure) == 1
    configure[0].source = configure[0].source.replace("TRAIN = True", "TRAIN = False", 1)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    text = "".join(output.get("text", "") for cell in notebook.cells
                   for output in cell.get("outputs", []))
    assert "Read the 8 runs of the committed comparison; nothing was trained." in text
    assert "real/real" in text and "samples closer than 99% of real pairs" in text
    images = sum("image/png" in output.get("data", {}) for cell in notebook.cells
                 for output in cell.get("outputs", []))
    assert images == 4  # the labelled faces, the curves, the committed samples, the closest pairs
