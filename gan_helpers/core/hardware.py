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


# Native bfloat16: on x86 CPUs these instructions (AVX-512 BF16, AMX); on NVIDIA GPUs
# compute capability 8.0 or newer (Ampere: A100, L4; Hopper: H100). A T4 (7.5, Colab's
# free GPU) and a V100 (7.0) have none: they train fast in float16 instead.
CPU_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
GPU_BF16_CAPABILITY = (8, 0)


def cpu_vector_extensions(flags: set[str] | None = None) -> str:
    """The widest x86 vector extension of this CPU, e.g. ``"AVX-512 (BF16, VNNI)"`` or
    ``"AVX2"``: it decides how fast TensorFlow trains on the CPU (measured here: an
    AVX2-only EPYC ran the default step about 3x slower than an AVX-512 one).

    ``flags`` are /proc/cpuinfo's (read when not given); without them (macOS, Windows)
    the answer is ``"unknown"``.
    """
    flags = _cpu_flags() if flags is None else flags
    if "avx512f" in flags:
        extras = [name for flag, name in (("avx512_bf16", "BF16"), ("amx_bf16", "AMX"),
                                          ("avx512_vnni", "VNNI")) if flag in flags]
        return "AVX-512" + (f" ({', '.join(extras)})" if extras else "")
    for flag, name in (("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4.2")):
        if flag in flags:
            return name
    return "unknown"


def _cuda_messages(lines: list[str]) -> list[str]:
    """The CUDA lines among TensorFlow's start-up messages, each once, without the prefix."""
    messages = []
    for line in lines:
        text = line.split("] ", 1)[-1]
        if "cuda" in line.lower() and text not in messages:
            messages.append(text)
    return messages


def describe_hardware() -> dict:
    """The device TensorFlow will train on.

    Returns:
        ``kind`` ("GPU", "TPU" or "CPU"), ``name`` (a readable name), ``count`` (devices),
        ``bf16`` (whether the device that trains has native bfloat16: a GPU of compute
        capability 8.0 or newer, every TPU, a CPU with AVX-512 BF16 or AMX),
        ``cpu_cores``, ``cpu_vector`` (:func:`cpu_vector_extensions`), ``cpu_bf16``
        (the CPU's own AVX-512 BF16 or AMX support, whatever trains), on a GPU its
        ``compute_capability`` (e.g. ``(7, 5)`` for a T4; None when TensorFlow does not
        say) and, on the CPU, ``tensorflow_said``: what TensorFlow printed about CUDA at
        start-up (on a machine that should have a GPU, it says why none was found).
    """
    from .._tf import startup_messages, tf

    gpus = tf.config.list_physical_devices("GPU")
    tpus = tf.config.list_logical_devices("TPU")
    flags = _cpu_flags()
    info = {
        "cpu_cores": os.cpu_count() or 1,
        "cpu_vector": cpu_vector_extensions(flags),
        "cpu_bf16": bool(CPU_BF16_FLAGS & flags),
    }
    if tpus:
        info.update(kind="TPU", name=f"{len(tpus)} TPU cores", count=len(tpus), bf16=True)
    elif gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        capability = details.get("compute_capability")
        capability = tuple(int(part) for part in capability) if capability else None
        info.update(kind="GPU", name=details.get("device_name", "GPU"), count=len(gpus),
                    compute_capability=capability,
                    bf16=capability is not None and capability >= GPU_BF16_CAPABILITY)
    else:
        info.update(kind="CPU", name=_cpuinfo("model name") or platform.machine(), count=1,
                    bf16=info["cpu_bf16"], tensorflow_said=_cuda_messages(startup_messages()))
    return info


def hardware_summary(info: dict | None = None) -> str:
    """One line, e.g. ``GPU: Tesla T4`` or ``CPU only: 2 cores, AVX-512 (BF16, VNNI)``.

    ``info`` is :func:`describe_hardware`'s (read when not given).
    """
    info = info or describe_hardware()
    if info["kind"] == "CPU":
        return f"CPU only: {info['cpu_cores']} cores, {info['cpu_vector']}"
    return f"{info['kind']}: {info['name']}" + (f" x{info['count']}" if info["count"] > 1 else "")


def best_precision(info: dict | None = None) -> str:
    """The fastest precision that trains safely on this hardware.

    ``mixed_float16`` (with loss scaling) on GPUs with tensor cores (compute capability 7
    or newer: T4, V100, A100, H100; the T4 and V100 have no bfloat16), ``mixed_bfloat16``
    on TPUs and on CPUs with native bfloat16 (AVX-512 BF16 or AMX; measured ~1.35x faster
    than float32 on the 2-core development machine), ``float32`` otherwise (and on a GPU
    whose capability is unknown).

    Decided from ``info`` alone, :func:`describe_hardware`'s (read when not given), so
    any machine can be asked about: ``{"kind": "GPU", "compute_capability": (7, 5)}``.
    """
    info = info or describe_hardware()
    if info["kind"] == "TPU":
        return "mixed_bfloat16"
    if info["kind"] == "GPU":
        capability = info.get("compute_capability")
        return "mixed_float16" if capability and capability[0] >= 7 else "float32"
    return "mixed_bfloat16" if info["bf16"] else "float32"


def resolve_precision(precision: str) -> str:
    """``precision`` itself, or :func:`best_precision` for ``"auto"``."""
    return best_precision() if precision == "auto" else precision
