"""Reader benchmark: a large layer-list YAML through accelsim's reader vs PyYAML's pure-Python
``safe_load``; appends a section to ``reports/benchmarks.md``.

The file is DETR-R50's layer list repeated 20 times (about 2 MB, 8,700 layers), the
size of a large imported model. Times are CPU seconds, best of three.

    python benchmarks/bench_readers.py [--copies 20] [--out reports/benchmarks.md]
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import tempfile
import time
from pathlib import Path

import yaml

from accelsim.safeio import parse_yaml
from accelsim.workload import load_workload
from accelsim.workload.yamlio import workload_to_dict


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=20)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "reports" / "benchmarks.md"))
    args = ap.parse_args()
    doc = workload_to_dict(load_workload("detr-r50"))
    layers = []
    for i in range(args.copies):
        for layer in doc["layers"]:
            item = copy.deepcopy(layer)
            item["name"] = f"c{i}.{item['name']}"
            item["inputs"] = [f"c{i}.{x}" if x != "input" else x for x in item.get("inputs", [])]
            if item.get("shares"):
                item["shares"] = f"c{i}.{item['shares']}"
            layers.append(item)
    doc["layers"] = layers
    text = yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=100)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.yaml"
        path.write_text(text)
        rows = [
            ("PyYAML safe_load (pure Python)", best_of(lambda: yaml.safe_load(text))),
            ("accelsim reader (libyaml CSafeLoader + limit scan)" if hasattr(yaml, "CSafeLoader")
             else "accelsim reader (pure Python + limit scan)", best_of(lambda: parse_yaml(text, "big.yaml"))),
            ("load_workload (read, validate, build the graph)", best_of(lambda: load_workload(path))),
        ]
    stamp = time.strftime("%Y-%m-%d %H:%M")
    lines = ["", f"## Readers (`benchmarks/bench_readers.py`, {stamp})", "",
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, PyYAML {yaml.__version__}; a {len(text) / 1e6:.2f} MB layer-list YAML "
             f"({len(layers):,} layers); CPU seconds, best of 3.", "",
             "| reader | seconds |", "|---|---:|"]
    lines += [f"| {name} | {sec:.2f} |" for name, sec in rows]
    with open(args.out, "a") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
