"""nbval runs the notebooks; this fails any cell that writes TensorFlow's log lines to its
output, checked cell or not (nbval --nbval-lax compares only the checked ones).

TensorFlow prints some of them the first time an op or a graph runs, not at import, and
which ones depends on its version: CI runs the notebooks on each supported stack.
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from project_files import TF_LOG_NOISE  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.when != "call" or not report.passed:
        return
    for output in getattr(item, "test_outputs", None) or []:
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            text = "".join(output.get("text", ""))
            if TF_LOG_NOISE.search(text):
                report.outcome = "failed"
                report.longrepr = f"TensorFlow log noise in this cell's output:\n{text[:500]}"
                return
