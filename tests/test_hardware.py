import pytest

import gan_helpers as gh
from gan_helpers.core import hardware


def test_hardware_is_described_in_one_line():
    info = gh.describe_hardware()
    assert info["kind"] in {"CPU", "GPU", "TPU"} and info["cpu_cores"] >= 1
    summary = gh.hardware_summary()
    assert "\n" not in summary and summary.split(":")[0] in {"CPU only", "GPU", "TPU"}


def test_cpu_vector_extensions_name_the_widest_one():
    from gan_helpers.core.hardware import cpu_vector_extensions

    assert cpu_vector_extensions({"avx2", "avx512f", "avx512_bf16", "avx512_vnni"}) == \
        "AVX-512 (BF16, VNNI)"
    assert cpu_vector_extensions({"avx", "avx2", "fma"}) == "AVX2"
    assert cpu_vector_extensions(set()) == "unknown"  # no /proc/cpuinfo: macOS, Windows
    assert gh.describe_hardware()["cpu_vector"] in gh.hardware_summary() or \
        gh.describe_hardware()["kind"] != "CPU"


def test_cuda_start_up_lines_are_kept_once_without_their_prefix():
    from gan_helpers.core.hardware import _cuda_messages

    line = "I0000 00:00:17.2 31 cudart_stub.cc:31] Could not find cuda drivers on your machine."
    assert _cuda_messages([line, "I0000 port.cc:153] oneDNN custom operations are on.",
                           line.replace("17.2", "18.9")]) == [
        "Could not find cuda drivers on your machine."]


def test_bf16_is_said_of_the_device_that_trains():
    info = gh.describe_hardware()
    assert isinstance(info["bf16"], bool) and isinstance(info["cpu_bf16"], bool)
    if info["kind"] == "CPU":
        assert info["bf16"] == info["cpu_bf16"]
        assert info["cpu_bf16"] == bool(hardware.CPU_BF16_FLAGS & hardware._cpu_flags())


@pytest.mark.parametrize("capability, bf16", [((7, 5), False), ((8, 0), True), ((9, 0), True),
                                              ((6, 0), False), (None, False)],
                         ids=["T4", "A100", "H100", "P100", "unknown"])
def test_a_gpus_compute_capability_decides_its_bf16(monkeypatch, capability, bf16):
    # A stand-in GPU through the tf.config calls describe_hardware() makes: a T4 (7.5) has
    # no bfloat16, Ampere (8.0) and Hopper (9.0) do, whatever the CPU has.
    from gan_helpers._tf import tf

    details = {"device_name": "Stand-in GPU", "compute_capability": capability}
    real_list = tf.config.list_physical_devices
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: ["gpu:0"] if kind == "GPU" else real_list(kind))
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda device: details)
    info = gh.describe_hardware()
    assert info["kind"] == "GPU" and info["name"] == "Stand-in GPU"
    assert info["compute_capability"] == capability and info["bf16"] is bf16
    assert gh.hardware_summary(info) == "GPU: Stand-in GPU"
