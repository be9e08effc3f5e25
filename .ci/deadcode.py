"""Dead-code check: vulture over the library, the book's scripts and the chapters' code cells.

The chapters are read from their notebooks (IPython magics become `pass`), so that a function
only the book calls counts as used; the tests do not count (code only they call is dead).
Names used only dynamically (torch's forward, dataclass fields read by asdict) are listed in
.ci/vulture_whitelist.py.
    .venv/bin/python .ci/deadcode.py
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def chapter_code(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    lines = []
    for cell in cells:
        if cell["cell_type"] == "code":
            for line in "".join(cell["source"]).splitlines():
                magic = line.lstrip().startswith(("%", "!"))
                lines.append(line[: len(line) - len(line.lstrip())] + "pass" if magic else line)
    return "\n".join(lines) + "\n"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for nb in sorted((ROOT / "book").glob("*.ipynb")):
            (Path(tmp) / f"{nb.stem}.py").write_text(chapter_code(nb))
        scripts = [str(p) for p in sorted((ROOT / "book").glob("*.py")) if not p.stem[0].isdigit()]
        cmd = [sys.executable, "-m", "vulture", str(ROOT / "udml"), *scripts, tmp,
               str(ROOT / ".ci" / "vulture_whitelist.py"), "--min-confidence", "60"]
        return subprocess.run(cmd, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
