"""The glossary maps each equation to a function: every name it gives must exist in `udml`."""
import importlib
import re
from pathlib import Path

import pytest

GLOSSARY = Path(__file__).resolve().parents[1] / "book" / "glossary.md"
NAMES = sorted(set(re.findall(r"`(udml(?:\.\w+)+)`", GLOSSARY.read_text())))


def test_glossary_names_functions():
    assert len(NAMES) >= 15


@pytest.mark.parametrize("name", NAMES)
def test_glossary_name_resolves(name):
    module, _, attr = name.rpartition(".")
    assert hasattr(importlib.import_module(module), attr), f"{name} named in the glossary is missing"
