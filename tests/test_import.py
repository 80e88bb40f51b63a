"""Importing gan_helpers changes nothing in the process beyond what gan_helpers._tf documents."""
import os
import subprocess
import sys

import pytest

CHECK = """
import os
import gan_helpers as gh
tf = gh.tf
assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ, "the import set TF_CPP_MIN_LOG_LEVEL"
# All of these raise once TensorFlow's runtime has started:
tf.config.threading.set_intra_op_parallelism_threads(2)
tf.config.threading.set_inter_op_parallelism_threads(1)
tf.config.set_visible_devices(tf.config.list_physical_devices("CPU"), "CPU")
for gpu in tf.config.list_physical_devices("GPU"):
    tf.config.experimental.set_memory_growth(gpu, True)
assert tf.config.threading.get_intra_op_parallelism_threads() == 2
print("configured")
"""


def test_device_and_thread_settings_still_work_after_the_import():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "configured"
    # TensorFlow's start-up lines are kept out of stderr (and out of notebooks).
    assert result.stderr.strip() == "", result.stderr[-2000:]


@pytest.mark.parametrize("noise_name", ["_NOISE", "_GRAPH_NOISE"])
def test_quiet_stderr_drops_absls_first_log_header_with_the_noise_it_precedes(capfd, noise_name):
    """TensorFlow 2.20 prints absl's header line before the first C++ log line of the
    process, e.g. the first time a graph runs; it must go with the line it precedes."""
    from gan_helpers import _tf

    header = ("WARNING: All log messages before absl::InitializeLog() is called are "
              "written to STDERR")
    remapper = ("E0000 00:00:1765.12  4711 meta_optimizer.cc:966] remapper failed: "
                "INVALID_ARGUMENT: Mutation::Apply error")
    cpu = ("I0000 00:00:1765.12  4711 cpu_feature_guard.cc:210] This TensorFlow binary is "
           "optimized to use available CPU instructions")
    noise = getattr(_tf, noise_name)
    with _tf.quiet_stderr(noise=noise):
        os.write(2, f"{header}\n{remapper if noise_name == '_GRAPH_NOISE' else cpu}\n"
                    f"a real error\n".encode())
    err = capfd.readouterr().err
    assert err.strip() == "a real error"
