import gan_helpers as gh


def test_hardware_is_described_in_one_line():
    info = gh.describe_hardware()
    assert info["kind"] in {"CPU", "GPU", "TPU"} and info["cpu_cores"] >= 1
    summary = gh.hardware_summary()
    assert "\n" not in summary and summary.split(":")[0] in {"CPU only", "GPU", "TPU"}


def test_cpu_vector_extensions_name_the_widest_one():
    from gan_helpers.hardware import cpu_vector_extensions

    assert cpu_vector_extensions({"avx2", "avx512f", "avx512_bf16", "avx512_vnni"}) == \
        "AVX-512 (BF16, VNNI)"
    assert cpu_vector_extensions({"avx", "avx2", "fma"}) == "AVX2"
    assert cpu_vector_extensions(set()) == "unknown"  # no /proc/cpuinfo: macOS, Windows
    assert gh.describe_hardware()["cpu_vector"] in gh.hardware_summary() or \
        gh.describe_hardware()["kind"] != "CPU"


def test_cuda_start_up_lines_are_kept_once_without_their_prefix():
    from gan_helpers.hardware import _cuda_messages

    line = "I0000 00:00:17.2 31 cudart_stub.cc:31] Could not find cuda drivers on your machine."
    assert _cuda_messages([line, "I0000 port.cc:153] oneDNN custom operations are on.",
                           line.replace("17.2", "18.9")]) == [
        "Could not find cuda drivers on your machine."]
