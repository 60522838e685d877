"""ZigZag's own parser reads `accelsim workload export --to zigzag` (on demand: needs ZigZag's
virtual environment, benchmarks/peers/.venv, made by `python benchmarks/peers/zigzag_compare.py`
or peer_env.ensure_venv(); skipped where it is absent, as on CI).

ZigZag's WorkloadValidator must accept the file and ZigZag's WorkloadFactory must count the
same MACs per exported MAC layer as accelsim (exact integers)."""

from __future__ import annotations

import json
import subprocess

import pytest

import accelsim
from accelsim.resources import project_root
from accelsim.workload.importers.export import export_zigzag

PEERS = project_root() / "benchmarks" / "peers"
PYTHON = PEERS / ".venv" / "bin" / "python"


@pytest.mark.skipif(not PYTHON.is_file(), reason="ZigZag's venv (benchmarks/peers/.venv) is not built here")
@pytest.mark.parametrize("model", ["resnet50", "segformer-b0"])
def test_zigzag_reads_the_export(tmp_path, model):
    wl = accelsim.load_workload(model)
    path, skipped = export_zigzag(wl, tmp_path / f"{model}.yaml")
    out = subprocess.run([str(PYTHON), str(PEERS / "zigzag_read_workload.py"), str(path)], capture_output=True,
                         text=True, timeout=300, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])[str(path)]
    assert result["valid"]
    exported = [x for x in wl.layers if x.name not in set(skipped)]
    assert len(result["layers"]) == len(exported)
    zz = {d["id"]: d for d in result["layers"]}
    for i, layer in enumerate(exported):
        if layer.is_mac:
            assert zz[i]["macs"] == layer.macs, (layer.name, zz[i])
