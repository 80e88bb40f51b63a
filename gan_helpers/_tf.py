"""Import TensorFlow and Keras once, without the C++ start-up chatter on stderr.

TensorFlow prints oneDNN, CUDA and CPU-feature lines from C++ when it is imported and
when its runtime first starts; ``TF_CPP_MIN_LOG_LEVEL`` does not silence all of them.
They land in notebooks as red stderr output. Here the process's stderr (file
descriptor 2) is captured while TensorFlow starts, and any line that is not one of
the known start-up messages is written back, so real errors still show.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog|[IWE]\d{4} \S+\s+\d+ "
    r"(port|cudart_stub|cpu_feature_guard|cuda_platform|cuda_executor|cuda_dnn|cuda_fft|"
    r"cuda_blas|gpu_device|computation_placer)\.cc|To enable the following instructions|"
    r"Unable to register cu)"
)


@contextlib.contextmanager
def _captured_stderr_fd():
    """Send fd 2 to a temporary file for the duration; yield a callable reading it."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield tmp
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            for line in tmp.read().decode("utf-8", "replace").splitlines():
                if line.strip() and not _NOISE.search(line):
                    print(line, file=sys.stderr)


def _expected_retracing(record) -> bool:
    """Logging filter: drop TensorFlow's "triggered tf.function retracing" warnings.

    Building several models in one session, as the notebooks do, triggers them; they
    are expected there and say nothing about the training step itself.
    """
    return "triggered tf.function retracing" not in record.getMessage()


def _import():
    # Level 3 also hides grappler "remapper failed" ERROR lines, which are harmless;
    # real failures still raise Python exceptions.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules:
        with _captured_stderr_fd():
            import tensorflow as tf_module

            # The runtime's first start prints more (cuInit); trigger it while captured.
            tf_module.config.list_physical_devices()
            tf_module.constant(0.0) + 1.0
    import keras as keras_module
    import tensorflow as tf_module

    logger = tf_module.get_logger()
    if _expected_retracing not in logger.filters:
        logger.addFilter(_expected_retracing)
    return tf_module, keras_module


tf, keras = _import()
