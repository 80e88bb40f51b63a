"""Execute notebooks top to bottom in a fresh kernel and store clean outputs.

    python notebooks/execute.py notebooks/01_*.ipynb      # real run (not quick mode)

Each notebook runs in its own fresh kernel with ``notebooks/`` as the working folder.
Afterwards progress-bar redraws are collapsed (only the final state of each line is
kept) and absolute paths of this machine are replaced, so the stored outputs read well
on GitHub. The run fails if a cell raises or writes to stderr.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def collapse_carriage_returns(text: str) -> str:
    """Keep what a terminal would show: for each line, the text after its last \\r."""
    lines = []
    for line in text.split("\n"):
        parts = [p for p in line.split("\r") if p]
        lines.append(parts[-1] if parts else "")
    return "\n".join(lines)


def merge_streams(outputs: list, joiner: str = "") -> list:
    """Join consecutive stream outputs of the same name (stdout, stderr) into one.

    A progress bar arrives as hundreds of small stream messages; joined, their carriage
    returns can be collapsed into the bar's final state.
    """
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.get("output_type") == "stream" and previous is not None
                and previous.get("output_type") == "stream" and previous.name == output.name):
            glue = joiner if not previous.text.endswith("\n") else ""
            previous.text = previous.text + glue + output.text
        else:
            merged.append(output)
    return merged


def is_progress_widget(output) -> bool:
    """A tqdm bar shown as a widget: the notebook stores only its first frame ("0%|"),
    never where it ended (the widget updates itself over messages that are not stored)."""
    data = output.get("data", {})
    plain = data.get("text/plain", "")
    plain = "".join(plain) if isinstance(plain, list) else plain
    return ("application/vnd.jupyter.widget-view+json" in data
            and re.search(r"\d+%\|", plain) is not None)


def clean_outputs(nb, joiner: str = "") -> list[str]:
    """Merge and collapse progress bars, hide machine paths; return the problems found."""
    problems = []
    home = str(Path.home())
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cell.outputs = [o for o in merge_streams(cell.get("outputs", []), joiner)
                        if not is_progress_widget(o)]
        for output in cell.outputs:
            if output.output_type == "error":
                problems.append(f"cell {index}: {output.ename}: {output.evalue}")
            if output.output_type == "stream":
                text = collapse_carriage_returns(output.text)
                text = text.replace(str(ROOT), "<repo>").replace(home, "~")
                output.text = text
                if output.name == "stderr" and text.strip():
                    problems.append(f"cell {index} wrote to stderr: {text.strip()[:200]}")
            if output.output_type in ("execute_result", "display_data"):
                plain = output.get("data", {}).get("text/plain")
                if isinstance(plain, str):
                    output["data"]["text/plain"] = plain.replace(str(ROOT), "<repo>").replace(home, "~")
    if not any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
               for c in nb.cells if c.cell_type == "code" for o in c.outputs):
        nb.metadata.pop("widgets", None)  # the state of widgets no output shows any more
    return problems


def execute(path: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(HERE)}})
    client.execute()
    seconds = time.perf_counter() - start
    problems = clean_outputs(nb)
    nbformat.write(nb, path)
    if problems:
        raise RuntimeError(f"{path.name}: " + "; ".join(problems))
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    args = parser.parse_args(argv)
    if os.environ.get("GAN_QUICK", "0") not in ("", "0"):
        print("note: GAN_QUICK is set; committed notebooks should show a real run", file=sys.stderr)
    for path in args.notebooks:
        seconds = execute(path, args.timeout)
        print(f"{path.name}: executed in {seconds / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
