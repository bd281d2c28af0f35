"""The what-runs-where table (ops/devices.py): every family module that registers ops is declared, the
copies in README.md and docs/architecture.md equal the generated table, and the registry's facts (ops
without a GPU compute, GPU computes that go through the host) reach the rows."""
import os
import re
import subprocess
import sys

import pytest

import mxcy  # noqa: F401 - registers every operator
from mxcy.ops import devices
from mxcy.ops.registry import OpDef

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BLOCK = re.compile(r"<!-- ops-table[^>]*-->\n(.*?)\n<!-- /ops-table -->", re.S)


def test_every_family_module_is_declared_and_no_declaration_is_stale():
    assert set(devices.families()) == set(devices.FAMILIES)


@pytest.mark.parametrize("doc", ["README.md", os.path.join("docs", "architecture.md")])
def test_the_documents_show_the_generated_table(doc):
    with open(os.path.join(ROOT, doc), encoding="utf-8") as f:
        shown = BLOCK.findall(f.read())
    assert shown == [devices.markdown_table()], \
        f"{doc}'s table is stale: paste the output of `python -m mxcy.ops --table` between its ops-table markers"


def test_python_m_mxcy_ops_prints_the_table():
    out = subprocess.run([sys.executable, "-m", "mxcy.ops", "--table"], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == devices.markdown_table()


def _op(name, computes):
    return OpDef(name, infer_shape=None, compute=computes)


def via_host(compute):
    def compute_on_host(*args):
        return compute(*args)
    return compute_on_host


def test_cpu_only_ops_and_host_round_trips_come_from_the_registry(monkeypatch):
    def cpu(*args):
        return None
    ops = [_op("fam_kernel", {"cpu": cpu, "gpu": cpu}), _op("_fam_cpu_only", {"cpu": cpu}),
           _op("contrib_free", {"cpu": cpu, "gpu": via_host(cpu)}), _op("_contrib_x", {"cpu": cpu, "gpu": cpu})]
    monkeypatch.setattr(devices, "families", lambda: {"fam": ops})
    monkeypatch.setitem(devices.FAMILIES, "fam", ("NumPy", "Numba CUDA kernels"))
    assert devices.markdown_table().splitlines()[2] == (
        "| fam | `fam_kernel`, `contrib_free`, `contrib.x` | NumPy | Numba CUDA kernels; CPU only: `_fam_cpu_only`; "
        "host round trip (NumPy): `contrib_free` |")
