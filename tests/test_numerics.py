"""The CPU numerics pins of `udml.numerics`, checked in fresh interpreters (torch fixes some of
them at its first operation, so they cannot be observed in this already-running process)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import json, os, sys
import udml, torch
print(json.dumps({"env": {k: os.environ.get(k) for k in ("MKL_CBWR", "ATEN_CPU_CAPABILITY")},
                  "mkldnn": torch.backends.mkldnn.enabled,
                  "capability": torch.backends.cpu.get_cpu_capability()}))
"""


def _probe(**env_overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("MKL_CBWR", "ATEN_CPU_CAPABILITY")}
    env.update(env_overrides)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout
    return json.loads(out.strip().splitlines()[-1])


def _has_avx2() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            return " avx2" in cpuinfo.read()
    except OSError:
        return False


def test_importing_udml_pins_mkl_aten_and_onednn():
    seen = _probe()
    assert seen["env"] == {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "avx2"}
    assert seen["mkldnn"] is False
    if _has_avx2():
        assert seen["capability"] == "AVX2"


def test_a_users_own_setting_wins():
    seen = _probe(ATEN_CPU_CAPABILITY="default", MKL_CBWR="AUTO")
    assert seen["env"] == {"MKL_CBWR": "AUTO", "ATEN_CPU_CAPABILITY": "default"}
    assert seen["capability"] == "DEFAULT"


@pytest.mark.skipif(not _has_avx2(), reason="needs an x86-64 CPU with AVX2")
def test_the_pins_change_the_bits_they_claim_to_fix():
    """Without the ATen pin, log_softmax runs scalar kernels that round differently: the pin
    decides the last bits, so it is not a no-op."""
    code = ("import udml, torch; torch.manual_seed(0); x = torch.randn(64, 300); "
            "print(float(torch.log_softmax(x, 1).sum()).hex())")
    runs = {}
    for capability in ("avx2", "default"):
        env = dict(os.environ, ATEN_CPU_CAPABILITY=capability)
        runs[capability] = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                          capture_output=True, text=True, timeout=120).stdout
    assert runs["avx2"] != runs["default"]


def test_results_files_record_the_numerics_in_force():
    from udml.environment import environment

    numerics = environment()["numerics"]
    assert numerics["MKL_CBWR"] == os.environ.get("MKL_CBWR") == "COMPATIBLE"
    assert numerics["mkldnn"] is False
    assert numerics["cpu_capability"] in {"DEFAULT", "AVX2", "AVX512", "NEON", "SVE256", "ZVECTOR", "VSX"}
