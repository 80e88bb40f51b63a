"""What will this run on? A short description of the accelerator, for notebooks and logs."""
from __future__ import annotations

import os
import platform


def _cpuinfo(field: str) -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(field):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _cpu_flags() -> set[str]:
    return set(_cpuinfo("flags").split())


def describe_hardware() -> dict:
    """The device TensorFlow will train on.

    Returns:
        ``kind`` ("GPU", "TPU" or "CPU"), ``name`` (a readable name), ``count`` (devices),
        ``cpu_cores`` and ``cpu_bf16`` (AVX-512 BF16 or AMX support, used by issue 4's
        mixed precision).
    """
    from ._tf import tf

    gpus = tf.config.list_physical_devices("GPU")
    tpus = tf.config.list_logical_devices("TPU")
    flags = _cpu_flags()
    info = {
        "cpu_cores": os.cpu_count() or 1,
        "cpu_bf16": bool({"avx512_bf16", "amx_bf16"} & flags),
    }
    if tpus:
        info.update(kind="TPU", name=f"{len(tpus)} TPU cores", count=len(tpus))
    elif gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        info.update(kind="GPU", name=details.get("device_name", "GPU"), count=len(gpus))
    else:
        info.update(kind="CPU", name=_cpuinfo("model name") or platform.machine(), count=1)
    return info


def hardware_summary() -> str:
    """One line, e.g. ``GPU: Tesla T4`` or ``CPU only: 2 cores (bfloat16 capable)``."""
    info = describe_hardware()
    if info["kind"] == "CPU":
        bf16 = ", bfloat16 capable" if info["cpu_bf16"] else ""
        return f"CPU only: {info['cpu_cores']} cores{bf16}"
    return f"{info['kind']}: {info['name']}" + (f" x{info['count']}" if info["count"] > 1 else "")


def best_precision(info: dict | None = None) -> str:
    """The fastest precision that trains safely on this hardware.

    ``mixed_float16`` (with loss scaling) on GPUs with tensor cores (compute capability 7
    or newer: T4, V100, A100, H100), ``mixed_bfloat16`` on TPUs and on CPUs with native
    bfloat16 (AVX-512 BF16 or AMX; measured ~1.35x faster than float32 on the 2-core
    development machine), ``float32`` otherwise.
    """
    from ._tf import tf

    info = info or describe_hardware()
    if info["kind"] == "TPU":
        return "mixed_bfloat16"
    if info["kind"] == "GPU":
        gpus = tf.config.list_physical_devices("GPU")
        capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")
        return "mixed_float16" if capability and capability[0] >= 7 else "float32"
    return "mixed_bfloat16" if info["cpu_bf16"] else "float32"


def resolve_precision(precision: str) -> str:
    """``precision`` itself, or :func:`best_precision` for ``"auto"``."""
    return best_precision() if precision == "auto" else precision
