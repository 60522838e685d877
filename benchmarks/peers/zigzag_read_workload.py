"""Read workload YAML files with ZigZag's own parser (run with ZigZag's python, see peer_env.py).

    benchmarks/peers/.venv/bin/python benchmarks/peers/zigzag_read_workload.py FILE.yaml ...

Prints one JSON object: per file, whether ZigZag's WorkloadValidator accepts it and, per
layer, ZigZag's name, operator type and MAC count (from ZigZag's WorkloadFactory).
Imports nothing from accelsim: it checks what `accelsim workload export --to zigzag` writes.
"""

from __future__ import annotations

import json
import logging
import sys

import yaml
from zigzag.parser.mapping_validator import MappingValidator
from zigzag.parser.workload_factory import WorkloadFactory
from zigzag.parser.workload_validator import WorkloadValidator

#: the least mapping ZigZag's factory needs (it reads the core allocation and operand links)
MAPPING = [{"name": "default", "spatial_mapping": {"D1": ["K, 32"]},
            "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}]


def read(path: str) -> dict:
    with open(path) as fh:
        data = yaml.safe_load(fh)
    validator = WorkloadValidator(data)
    valid = validator.validate()
    mapping = MappingValidator(MAPPING)
    mapping.validate()
    workload = WorkloadFactory(validator.normalized_data, mapping.normalized_data).create()
    layers = [{"id": n.id, "type": n.type, "macs": int(n.total_mac_count)} for n in workload.node_list]
    return {"valid": bool(valid), "layers": layers}


if __name__ == "__main__":
    logging.disable(logging.WARNING)
    print(json.dumps({p: read(p) for p in sys.argv[1:]}))
