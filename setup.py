"""Build hook: put the one canonical copy of the shipped files into the wheel.

The data live once, in the repository's data/ folder, and the merged results files of the
experiments in results/<experiment>/<dataset>.parquet. Building the wheel copies them into the
package as udml/_data/ and udml/_results/, where `udml.data.files` and
`udml.analysis.comparisons.find_results` find them after `pip install` (as on Colab, where the
book's experiments chapter reads the results). A checkout or an editable install reads data/ and
results/ directly. Everything else is in pyproject.toml.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA = ("mfeat.npz", "fsdd.npz", "README.md")  # the archives and their provenance/licences


def shipped() -> list[tuple[Path, str]]:
    """(source file, its path inside the udml package) for every file the wheel adds."""
    files = [(ROOT / "data" / name, f"_data/{name}") for name in DATA]
    results = sorted((ROOT / "results").glob("*/*.parquet"))  # merged files only, not runs/
    return files + [(p, f"_results/{p.parent.name}/{p.name}") for p in results]


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads data/ and results/ in place
        for source, inside in shipped():
            if not source.is_file():
                raise FileNotFoundError(f"cannot build udml: {source} is missing")
            target = Path(self.build_lib) / "udml" / inside
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        return outputs + [str(Path(self.build_lib) / "udml" / inside) for _, inside in shipped()]


setup(cmdclass={"build_py": BuildPyWithData})
