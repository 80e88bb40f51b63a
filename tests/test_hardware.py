import gan_helpers as gh


def test_hardware_is_described_in_one_line():
    info = gh.describe_hardware()
    assert info["kind"] in {"CPU", "GPU", "TPU"} and info["cpu_cores"] >= 1
    summary = gh.hardware_summary()
    assert "\n" not in summary and summary.split(":")[0] in {"CPU only", "GPU", "TPU"}
