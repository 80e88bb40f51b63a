"""Where the repository's own files are, for the tests that read them (one definition)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The lesson notebooks, in order (not notebooks/execute.py or a stray copy).
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
