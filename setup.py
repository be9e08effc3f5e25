"""Build hook: put the one canonical copy of the shipped data into the wheel.

The data live once, in the repository's data/ folder.  Building the wheel copies them into the
package as udml/_data/, where `udml.data.files` finds them after `pip install` (as on Colab).
A checkout or an editable install reads data/ directly.  Everything else is in pyproject.toml.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("mfeat.npz", "README.md")  # the archive and its provenance/licence note


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads data/ in place
        target = Path(self.build_lib) / "udml" / "_data"
        target.mkdir(parents=True, exist_ok=True)
        for name in SHIPPED:
            source = ROOT / "data" / name
            if not source.is_file():
                raise FileNotFoundError(f"cannot build udml: {source} is missing")
            shutil.copyfile(source, target / name)

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        target = Path(self.build_lib) / "udml" / "_data"
        return outputs + [str(target / name) for name in SHIPPED]


setup(cmdclass={"build_py": BuildPyWithData})
