"""Where the repository's own files are, for the tests that read them (one definition)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The lesson notebooks, in order (not notebooks/execute.py or a stray copy).
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# What TensorFlow's C++ side writes to stderr (absl's header, "I0000 00:00:…" and
# "2026-…: I tensorflow/…" log lines, oneDNN and CUDA start-up talk): none of it belongs in
# a notebook's output. Deliberately wider than gan_helpers' own filter, so a line the
# filter misses is still caught.
TF_LOG_NOISE = re.compile(
    r"(^|\n)([IWEF]\d{4} \S+|\d{4}-\d\d-\d\d [\d:.]+: [IWEF] )|absl::|oneDNN|cuInit|"
    r"cpu_feature_guard|Unable to register cu")
