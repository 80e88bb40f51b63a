"""Import TensorFlow and Keras once, without the C++ start-up chatter on stderr.

TensorFlow prints oneDNN, CUDA and CPU-feature lines from C++ when it is imported and
when it first looks for devices; ``TF_CPP_MIN_LOG_LEVEL`` does not silence all of them.
They land in notebooks as red stderr output. Here the process's stderr (file
descriptor 2) is captured while TensorFlow is imported and lists its devices, and any
line that is not one of the known start-up messages is written back, so real errors
still show. The known ones are kept: :func:`startup_messages` returns them, and
:func:`gan_helpers.describe_hardware` shows the CUDA ones when no GPU was found (they
say why).

What importing does to the process, and nothing more: it imports TensorFlow and Keras,
lists the physical devices (which does not start the runtime: ``tf.config`` device,
memory-growth and threading settings still work afterwards), and adds a filter to
TensorFlow's Python logger that drops "triggered tf.function retracing" warnings.
It sets no environment variable.

Under another Keras backend (``KERAS_BACKEND=jax``, as on a GPU machine without
TensorFlow) only Keras is imported, and TensorFlow if it is installed: the models,
the classic step and ``train(step="classic")`` run there (``research/gpu_run.py``).
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import weakref

# TensorFlow's C++ log prefix: "I0000 00:00:1795.23  219 " (absl, TF >= 2.20) or
# "2026-11-25 20:59:48.58: I tensorflow/core/util/" (older TensorFlow).
_LOG_PREFIX = r"(?:[IWE]\d{4} \S+\s+\d+ |\d{4}-\d\d-\d\d [\d:.]+: [IWE] )(?:\S*/)?"
# absl's one-time header, printed just before the first C++ log line of the process
# (TensorFlow >= 2.20), wherever that line comes: at import, or the first time a graph
# runs. It belongs to whichever noise it precedes.
_ABSL_HEADER = r"WARNING: All log messages before absl::InitializeLog"
_NOISE = re.compile(
    rf"^({_ABSL_HEADER}|{_LOG_PREFIX}"
    r"(port|cudart_stub|cpu_feature_guard|cuda_platform|cuda_executor|cuda_driver|cuda_dnn|"
    r"cuda_fft|cuda_blas|gpu_device|computation_placer)\.cc|To enable the following instructions|"
    r"Unable to register cu)"
)


# Grappler's remapper logs an ERROR when it cannot fuse a pattern in the fused step's
# graph the first time it runs; the graph still runs, unfused (measured harmless).
_GRAPH_NOISE = re.compile(
    rf"^({_ABSL_HEADER}|{_LOG_PREFIX}meta_optimizer\.cc:\d+\] remapper failed)")


@contextlib.contextmanager
def quiet_stderr(known: list | None = None, noise: re.Pattern = _NOISE):
    """Send fd 2 to a temporary file for the duration; afterwards drop the lines matching
    ``noise`` (appended to ``known`` if given) and write every other line back to stderr."""
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
                if noise.search(line):
                    if known is not None:
                        known.append(line)
                elif line.strip():
                    print(line, file=sys.stderr)


def _expected_retracing(record) -> bool:
    """Logging filter: drop TensorFlow's "triggered tf.function retracing" warnings.

    Building several models in one session, as the notebooks do, triggers them; they
    are expected there and say nothing about the training step itself.
    """
    return "triggered tf.function retracing" not in record.getMessage()


_FIRST_RUNS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def quiet_first_run(owner, key):
    """Quiet :data:`_GRAPH_NOISE` while ``owner`` runs a graph for ``key`` (e.g. its input
    shapes) the first time: tracing and optimising happen then, and only then."""
    seen = _FIRST_RUNS.setdefault(owner, set())
    if key in seen:
        yield
        return
    with quiet_stderr(noise=_GRAPH_NOISE):
        yield
    seen.add(key)


_STARTUP_MESSAGES: list[str] = []


def startup_messages() -> list[str]:
    """The start-up lines TensorFlow printed while :mod:`gan_helpers` imported it."""
    return list(_STARTUP_MESSAGES)


class _NoTensorFlow:
    """Stands in for ``tf`` under another Keras backend where TensorFlow is not installed:
    any use names what is missing, in one line."""

    def __getattr__(self, name):
        raise ImportError(
            f"tf.{name} needs TensorFlow, which is not installed (KERAS_BACKEND="
            f"{os.environ.get('KERAS_BACKEND')}): under another backend gan_helpers runs the "
            f"models and train(step='classic') only")


def _import():
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend != "tensorflow":
        # Another Keras backend (JAX, PyTorch): the Sequential models, the classic
        # train_on_batch step and train(step="classic") run on it; the fused step, the
        # tf.data pipeline, tf.distribute and the benchmark need TensorFlow.
        import keras as keras_module
        try:
            import tensorflow as tf_module
        except ImportError:
            tf_module = _NoTensorFlow()
        return tf_module, keras_module
    if "tensorflow" not in sys.modules:
        with quiet_stderr(_STARTUP_MESSAGES):
            import tensorflow as tf_module

            # Looking for devices prints more (cuInit on a machine without a GPU); do it
            # while captured. It does not start the runtime.
            tf_module.config.list_physical_devices()
    import keras as keras_module
    import tensorflow as tf_module

    logger = tf_module.get_logger()
    if _expected_retracing not in logger.filters:
        logger.addFilter(_expected_retracing)
    return tf_module, keras_module


tf, keras = _import()
