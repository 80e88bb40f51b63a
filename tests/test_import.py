"""Importing gan_helpers changes nothing in the process beyond what gan_helpers._tf documents."""
import os
import subprocess
import sys

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
