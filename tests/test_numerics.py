"""The CPU numerics of `udml.numerics`, checked in fresh interpreters: torch and MKL read their
settings once, at their first operation, so neither importing `udml` nor a late pin can be
observed in this process, which conftest pinned at its start."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

PINS = ("MKL_CBWR", "ATEN_CPU_CAPABILITY")


def _fresh(code: str, **env_overrides) -> dict:
    """Run ``code`` in a fresh interpreter without the pins' environment variables (plus
    ``env_overrides``); return the JSON object it prints last."""
    env = {k: v for k, v in os.environ.items() if k not in PINS}
    env.update(env_overrides)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


_has_avx2 = torch.cpu._is_avx2_supported()
_has_avx512 = torch.cpu._is_avx512_supported()
_has_mkl = torch.backends.mkl.is_available()


IMPORT_EVERYTHING = """
import importlib, json, os, pkgutil
import torch
before_env, before_onednn = dict(os.environ), torch.backends.mkldnn.enabled
import udml
names = [m.name for m in pkgutil.walk_packages(udml.__path__, "udml.")
         if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
onednn = torch.backends.mkldnn.enabled
changed = sorted(k for k in set(before_env) | set(os.environ) if before_env.get(k) != os.environ.get(k))
os.environ["ATEN_CPU_CAPABILITY"] = "default"  # still read at torch's first operation?
print(json.dumps({"modules": names, "changed": changed, "onednn": [before_onednn, onednn],
                  "capability": torch.backends.cpu.get_cpu_capability()}))
"""


def test_importing_udml_and_every_module_changes_nothing():
    seen = _fresh(IMPORT_EVERYTHING)
    for package in ("data", "corrupt", "method", "models", "training", "experiments", "analysis",
                    "plotting", "av", "book"):
        assert f"udml.{package}" in seen["modules"]
    assert seen["changed"] == []
    assert seen["onednn"][1] == seen["onednn"][0]
    # No module computes with torch on import, so a pin made after `import udml` still takes.
    assert seen["capability"] == "DEFAULT"


PIN = """
import json, os, warnings
import torch
from udml.numerics import pin_cpu_numerics
{before}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    in_force = pin_cpu_numerics()
print(json.dumps({{"returned": in_force, "warnings": [str(w.message) for w in caught],
                  "categories": [w.category.__name__ for w in caught],
                  "env": {{k: os.environ.get(k) for k in {pins!r}}},
                  "capability": torch.backends.cpu.get_cpu_capability(),
                  "onednn": torch.backends.mkldnn.enabled}}))
"""


def _pin(before: str = "", **env_overrides) -> dict:
    return _fresh(PIN.format(before=before, pins=PINS), **env_overrides)


def test_the_call_pins_mkl_aten_and_onednn_without_a_warning():
    seen = _pin()
    assert seen["warnings"] == []
    assert seen["env"] == {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "avx2"}
    assert seen["onednn"] is False
    if _has_avx2:
        assert seen["capability"] == "AVX2"
    if _has_mkl:
        assert seen["returned"]["MKL_CBWR"] == "COMPATIBLE"
    assert seen["returned"] == {"cpu_capability": seen["capability"],
                                "MKL_CBWR": seen["returned"]["MKL_CBWR"], "mkldnn": False}


def test_a_users_own_setting_wins():
    seen = _pin(ATEN_CPU_CAPABILITY="default", MKL_CBWR="AUTO")
    assert seen["env"] == {"MKL_CBWR": "AUTO", "ATEN_CPU_CAPABILITY": "default"}
    assert seen["capability"] == "DEFAULT"
    assert seen["warnings"] == []


@pytest.mark.skipif(not _has_avx512, reason="needs a CPU whose own ATen capability is not AVX2")
def test_a_pin_after_a_torch_operation_warns_and_says_what_is_in_force():
    seen = _pin(before="torch.randn(64, 300).log_softmax(1).sum()")
    assert seen["categories"] == ["RuntimeWarning"]
    assert "ATen runs AVX512 kernels, not the AVX2" in seen["warnings"][0]
    assert "already ran" in seen["warnings"][0]
    assert seen["returned"]["cpu_capability"] == seen["capability"] == "AVX512"


def test_a_late_users_capability_warns_on_any_cpu():
    """The user's own ATEN_CPU_CAPABILITY, set after torch computed: DEFAULT is on every CPU, and
    no x86-64 CPU with AVX2 picks it by itself."""
    if not _has_avx2:
        pytest.skip("needs an x86-64 CPU with AVX2 (torch's own pick is DEFAULT otherwise)")
    seen = _pin(before="torch.ones(5).exp().sum(); os.environ['ATEN_CPU_CAPABILITY'] = 'default'")
    assert len(seen["warnings"]) == 1
    assert "not the DEFAULT that ATEN_CPU_CAPABILITY=default asks for" in seen["warnings"][0]


@pytest.mark.skipif(not _has_mkl, reason="needs torch built with MKL")
def test_a_pin_after_a_matrix_product_warns_about_mkl():
    seen = _pin(before="torch.randn(8, 8) @ torch.randn(8, 8)")
    assert len(seen["warnings"]) == 1
    assert "MKL runs its OFF code path, not the COMPATIBLE one" in seen["warnings"][0]
    assert seen["returned"]["MKL_CBWR"] == "OFF"


@pytest.mark.skipif(not _has_avx2, reason="needs an x86-64 CPU with AVX2")
def test_the_aten_pin_changes_the_bits_it_claims_to_fix():
    """Without the ATen pin, log_softmax runs scalar kernels that round differently: the pin
    decides the last bits, so it is not a no-op."""
    code = ("import json, torch; torch.manual_seed(0); x = torch.randn(64, 300); "
            "print(json.dumps({\"bits\": float(torch.log_softmax(x, 1).sum()).hex()}))")
    assert _fresh(code, ATEN_CPU_CAPABILITY="avx2") != _fresh(code, ATEN_CPU_CAPABILITY="default")


def test_results_files_record_the_numerics_in_force():
    from udml.environment import environment
    from udml.numerics import numerics_in_force

    numerics = environment()["numerics"]
    assert numerics == numerics_in_force()
    assert numerics["mkldnn"] is False  # conftest pinned this process
    if _has_mkl:
        assert numerics["MKL_CBWR"] == "COMPATIBLE"
    if _has_avx2:
        assert numerics["cpu_capability"] == "AVX2"
