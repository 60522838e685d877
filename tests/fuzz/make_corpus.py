"""Generate the bad-input corpus replayed by ``tests/test_fuzz_corpus.py``.

    python tests/fuzz/make_corpus.py            # rewrites tests/fuzz/corpus/

Every case is a file (or a command-line value) that accelsim must reject with one
``error:`` line naming the file (or the option), exit status 2, no traceback, in
bounded time. Cases are generated from a valid base document of each kind by
systematic mutations: each field replaced by a value of every wrong kind (text,
boolean, list, mapping, null, zero, negative, infinity, NaN, huge, a 5001-digit
integer), plus file-level damage (binary, UTF-16, Latin-1, empty, wrong top level,
deep nesting, alias bombs, duplicate keys, tabs, unterminated strings). The output
is deterministic: the same script writes the same corpus.

``cases.json`` lists every case: ``kind``, ``file`` (relative to the corpus, if any),
``argv`` (``{case}`` = the case file, ``{corpus}`` = the corpus folder, ``{tmp}`` = a
scratch folder; ``{arch_for_tech}`` = an arch file that points at the tech case) and
``expect`` (fragments the error line must hold besides the file name).
"""

from __future__ import annotations

import copy
import io
import json
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any, Callable

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = HERE / "corpus"

#: values of every wrong kind, by name (the name goes into the case id)
WRONG: dict[str, Any] = {
    "text": "many", "bool": True, "list": ["a", [1]], "map": {"a": 1}, "null": None, "zero": 0,
    "negative": -3, "inf": float("inf"), "nan": float("nan"), "huge": 10**30, "fraction": 2.7,
    "digits5001": "__DIGITS__",
}
DIGITS = "9" * 5001


def dump(data: Any) -> str:
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120)
    return text.replace("'__DIGITS__'", DIGITS).replace("__DIGITS__", DIGITS)


def damaged(text: str) -> dict[str, bytes]:
    """File-level damage applied to any YAML kind (same names for every kind)."""
    depth = 50_000
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))
    return {
        "binary": bytes(range(256)) * 4,
        "utf16": text.encode("utf-16"),
        "latin1": ("# caf\xe9\n" + text).encode("latin-1"),
        "empty": b"",
        "top_list": b"- a\n- b\n",
        "top_scalar": b"42\n",
        "deep": ("[" * depth + "]" * depth).encode(),
        "alias_bomb": laughs.encode(),
        "recursive_alias": b"a: &a [*a]\n",
        "duplicate_key": (text + text.splitlines()[0] + "\n").encode(),
        "tab_indent": b"a:\n\t- b\n",
        "unterminated": b"a: 'open\n",
        "digits5001": f"x: {DIGITS}\n".encode(),
        "nul_bytes": b"a: 1\x00\x00\n",
    }


class Corpus:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.cases: list[dict] = []

    def file(self, kind: str, name: str, data: "bytes | str") -> str:
        rel = f"{kind}/{name}"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return rel

    def case(self, kind: str, name: str, argv: list[str], file: str | None = None,
             expect: list[str] | None = None) -> None:
        self.cases.append({"id": f"{kind}/{name}", "kind": kind, "file": file, "argv": argv,
                           "expect": expect or []})

    def yaml_cases(self, kind: str, base: dict, argv: list[str], fields: dict[str, list[str]],
                   extra: dict[str, Any] | None = None, suffix: str = ".yaml", per_field: int = 5) -> None:
        """Cases per (field, wrong value), per file damage, per extra document. Each field gets
        ``per_field`` of its wrong values, rotating through the list from field to field, so
        every wrong value meets several fields without a case for every pair."""
        for i, (fld, wrongs) in enumerate(fields.items()):
            chosen = [wrongs[(2 * i + j) % len(wrongs)] for j in range(min(per_field, len(wrongs)))]
            for w in chosen:
                doc = copy.deepcopy(base)
                _set(doc, fld, WRONG[w])
                name = f"{fld.replace('.', '_')}-{w}{suffix}"
                self.case(kind, name[:-len(suffix)], argv, self.file(kind, name, dump(doc)))
        for name, data in damaged(dump(base)).items():
            self.case(kind, name, argv, self.file(kind, name + suffix, data))
        for name, doc in (extra or {}).items():
            data = doc if isinstance(doc, (str, bytes)) else dump(doc)
            self.case(kind, name, argv, self.file(kind, name + suffix, data))

    def write(self) -> None:
        (self.root / "cases.json").write_text(json.dumps(self.cases, indent=1) + "\n")


def _set(doc: Any, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        doc = doc[int(p)] if isinstance(doc, list) else doc[p]
    if isinstance(doc, list):
        doc[int(last)] = value
    elif value == "__DELETE__":
        doc.pop(last, None)
    else:
        doc[last] = value


NUMBER = ["text", "bool", "list", "null", "zero", "negative", "inf", "nan", "huge", "digits5001"]
INTEGER = NUMBER + ["fraction"]
TEXT = ["list", "map", "null"]
ENERGY = [w for w in NUMBER if w != "zero"]  # an energy of 0 is allowed (a component left out)


# ------------------------------------------------------------------ kinds
def arch_cases(c: Corpus) -> None:
    base = yaml.safe_load((ROOT / "arch_configs" / "E.yaml").read_text())
    argv = ["simulate", "-w", "{corpus}/ok/tiny_layers.yaml", "--arch", "{case}"]
    ints = ("num_pe", "k0", "c0", "accum_depth", "bits", "accum_bits", "tech_node_nm")
    fields = {f: (INTEGER if f in ints else NUMBER) for f, v in base.items()
              if isinstance(v, (int, float)) and not isinstance(v, bool)}
    fields.update({"dram_type": ["text", "list", "null"], "name": ["list", "map"], "tech": ["list", "map"]})
    fields["pe_array_area_mm2"] = [w for w in NUMBER if w != "null"]  # optional: null means "not known"
    extra = {
        "num_pe_1e12": {**base, "num_pe": 10**12}, "voltage_1e200": {**base, "voltage_v": 1e200},
        "frequency_tiny": {**base, "frequency_ghz": 1e-300}, "dram_bw_tiny": {**base, "dram_bandwidth_gbps": 1e-300},
        "missing_field": {k: v for k, v in base.items() if k != "k0"}, "unknown_key": {**base, "colour": "red"},
        "buffer_too_small": {**base, "weight_buffer_kb": 0.001},
        "ppu_negative": {**base, "ppu_elems_per_cycle": -1}, "ppu_text": {**base, "ppu_elems_per_cycle": "k0"},
        "tech_missing": {**base, "tech": "tech/nosuch.yaml"}, "tech_folder": {**base, "tech": "tech"},
    }
    c.yaml_cases("arch", base, argv, fields, extra)


def tech_cases(c: Corpus) -> None:
    base = yaml.safe_load((ROOT / "arch_configs" / "tech" / "5nm.yaml").read_text())
    argv = ["simulate", "-w", "{corpus}/ok/tiny_layers.yaml", "--arch", "{arch_for_tech}"]
    fields = {"reference_voltage_v": NUMBER, "sram_exponent": NUMBER, "sram_write_factor": NUMBER,
              "node_nm": INTEGER, "energy.mac_pj.value": ENERGY, "energy.dram_lpddr4_pj_per_bit.value": ENERGY,
              "reference.weight_buffer_kb.value": NUMBER, "reference.global_buffer_port_bits.value": NUMBER,
              "energy": ["list", "null", "text"]}
    no_energy = copy.deepcopy(base)
    no_energy["energy"].pop("mac_pj")
    extra = {"missing_energy": no_energy, "unknown_key": {**base, "colour": 1},
             "reference_capacity_zero": _with(base, "reference.input_buffer_kb.value", 0)}
    c.yaml_cases("tech", base, argv, fields, extra)


def _with(doc: dict, dotted: str, value: Any) -> dict:
    out = copy.deepcopy(doc)
    _set(out, dotted, value)
    return out


def layer_list_cases(c: Corpus) -> None:
    base = yaml.safe_load((c.root / "ok" / "tiny_layers.yaml").read_text())
    argv = ["workload", "show", "{case}"]
    fields = {"layers.0.k": INTEGER, "layers.0.c": INTEGER, "layers.0.p": INTEGER, "layers.0.stride": INTEGER,
              "layers.0.groups": INTEGER, "layers.0.op": ["text", "list", "null"], "layers.0.inputs": ["map", "bool"],
              "layers.0.fused": ["text", "zero"], "layers.0.tags": ["list", "text"], "layers": ["map", "text", "null"],
              "classes": ["text", "bool", "fraction", "negative", "huge"], "input": ["text", "list", "bool", "negative"],
              "meta": ["list", "text"]}
    big = copy.deepcopy(base)
    big["layers"][0].update(k=2**20, c=2**20, p=2**20, q=2**20)
    wide = copy.deepcopy(base)
    wide["layers"][0].update(k=2**21)
    dw = copy.deepcopy(base)
    dw["layers"][0].update(op="dwconv2d", groups=1)
    nowhere = copy.deepcopy(base)
    nowhere["layers"][1]["inputs"] = ["nowhere"]
    shares = copy.deepcopy(base)
    shares["layers"][1]["shares"] = "later"
    unknown = copy.deepcopy(base)
    unknown["layers"][0]["colour"] = 3
    extra = {"overflow_2p20": big, "k_over_limit": wide, "dwconv_groups_not_c": dw, "input_nowhere": nowhere,
             "shares_unknown": shares, "unknown_field": unknown, "no_layers": {**base, "layers": []},
             "layer_not_map": {**base, "layers": [1, 2]}}
    c.yaml_cases("layer_list", base, argv, fields, extra)


def workload_cases(c: Corpus) -> None:
    base = {"name": "w", "model": "segformer-b0", "input": "128x128", "classes": 19, "exec_path": ""}
    argv = ["workload", "show", "{case}"]
    fields = {"model": ["list", "map", "null", "bool"], "input": ["text", "list", "bool", "negative", "huge", "map"],
              "classes": ["text", "bool", "fraction", "negative", "huge", "list", "zero"],
              "exec_path": ["list", "map", "bool"], "options": ["list", "text", "bool"]}
    extra = {"unknown_model": {**base, "model": "nosuchnet"}, "bad_option": {**base, "options": {"depthz": 3}},
             "option_value": {**base, "options": {"variant": [1, 2]}}, "exec_path_bad": {**base, "exec_path": "bogus=1"},
             "exec_path_value": {**base, "exec_path": "fuse_in=99999"}, "unknown_key": {**base, "resolution": 512},
             "no_model": {"name": "w"}, "input_too_big": {**base, "input": "100000x100000"}}
    c.yaml_cases("workload", base, argv, fields, extra)


SPEC = {"name": "s", "arch": {"base": "E", "grid": {"num_pe": [8, 16]}},
        "workloads": [{"name": "segformer-b0", "input": "64x64", "classes": 19}], "objective": "latency"}


def spec_cases(c: Corpus) -> None:
    argv = ["sweep", "{case}", "--workers", "1", "--no-progress"]
    fields = {"objective": ["text", "list", "bool"], "max_candidates": ["text", "bool", "zero", "negative", "inf",
                                                                       "fraction"],
              "workers": ["zero", "bool", "text"], "executor": ["text", "bool"], "arch": ["null", "bool", "map"],
              "workloads": ["null", "map", "bool"], "workloads.0.classes": ["text", "bool", "fraction", "huge", "zero"],
              "workloads.0.input": ["text", "bool", "map", "huge"], "workloads.0.options": ["list", "text"],
              "workloads.0.exec_paths": ["map", "bool"], "workloads.0.name": ["list", "null"],
              "arch.grid.num_pe": ["text", "bool", "map", "null", "inf", "huge", "fraction"],
              "output": ["list", "bool"], "cache": ["list", "bool"]}

    def grid(**g):
        return {**SPEC, "arch": {"base": "E", "grid": g}}

    extra = {
        "range_stop_inf": grid(num_pe={"start": 8, "stop": float("inf"), "step": 8}),
        "range_step_tiny": grid(weight_buffer_kb={"start": 64, "stop": 128, "step": 1e-300}),
        "range_factor_tiny": grid(weight_buffer_kb={"start": 64, "stop": 1e6, "factor": 1.0000000001}),
        "range_both": grid(num_pe={"start": 8, "stop": 16, "step": 8, "factor": 2}),
        "range_reversed": grid(num_pe={"start": 16, "stop": 8, "step": 8}),
        "grid_1e12": grid(**{p: list(range(1, 101)) for p in ("k0", "c0", "accum_depth", "num_pe", "bits", "accum_bits")}),
        "grid_unknown_param": grid(colour=[1, 2]),
        "grid_num_pe_1e12": grid(num_pe=[10**12]),
        "sample_zero": {**SPEC, "arch": {"base": "E", "grid": {"num_pe": [8]}, "sample": {"n": 0}}},
        "unknown_workload": {**SPEC, "workloads": ["nosuchnet"]},
        "workload_bad_path": {**SPEC, "workloads": [{"name": "segformer-b0", "exec_paths": ["bogus=1"]}]},
        "workload_path_value": {**SPEC, "workloads": [{"name": "segformer-b0", "exec_paths": ["fuse_in=1e400"]}]},
        "workload_options_list": {**SPEC, "workloads": [{"name": "segformer-b0", "options": [1, 2]}]},
        "workload_file_missing": {**SPEC, "workloads": ["nosuch.yaml"]},
        "workloads_twice": {**SPEC, "workloads": ["segformer-b0", "segformer-b0"]},
        "arch_range_bad": {**SPEC, "arch": {"configs": ["A..Z"]}},
        "arch_unknown": {**SPEC, "arch": {"configs": ["nosuch"]}},
        "arch_file_missing": {**SPEC, "arch": {"configs": ["nosuch.yaml"]}},
        "cache_is_file": {**SPEC, "cache": "cache_is_file.yaml"},
        "output_is_folder": {**SPEC, "output": "."},
        "output_suffix": {**SPEC, "output": "{tmp}/results.txt"},
        "layers_same_as_output": {**SPEC, "output": "{tmp}/r.csv", "layers": "{tmp}/r.csv"},
        "empty_space": {**SPEC, "arch": {}},
        "no_arch_left": {**SPEC, "arch": {"base": "E", "grid": {"k0": [8]}, "constraints": ["k0 > 100"]}},
    }
    c.yaml_cases("spec", SPEC, argv, fields, extra)


def constraint_cases(c: Corpus) -> None:
    argv = ["sweep", "{case}", "--workers", "1", "--no-progress"]
    exprs = {
        "power_tower": "9**9**9 > 0", "repeat_text": "'a' * 10**10 == 'a'", "sum_100k": "+".join(["1"] * 100_000) + " > 0",
        "unary_deep": "-" * 3000 + "1 < 0", "parens_deep": "(" * 1000 + "1" + ")" * 1000 + " > 0",
        "lambda": "(lambda: 1)() == 1", "import": "__import__('os').system('true') == 0", "attribute": "k0.real == 8",
        "dunder": "().__class__ == 1", "unknown_name": "kk0 == 8", "syntax": "k0 ==", "div_zero": "k0 // 0 > 1",
        "log_zero": "log2(0) > 1", "text_compare": "k0 < 'a'", "big_literal": "1" + "0" * 400 + " > k0",
        "complex_power": "(-8) ** 0.5 > 0", "no_args": "max() > 1", "keyword_call": "max(a=1) > 0",
        "comprehension": "[x for x in (1,)] == 1", "walrus": "(x := 1) == 1", "starred": "max(*k0) > 0",
        "subscript": "k0[0] == 1", "fstring": "f'{k0}' == '8'", "not_text": 7,
    }
    for name, expr in exprs.items():
        spec = {**SPEC, "arch": {"base": "E", "grid": {"k0": [8, 16]}, "constraints": [expr]}}
        c.case("constraint", name, argv, c.file("constraint", name + ".yaml", dump(spec)))


def exec_path_cases(c: Corpus) -> None:
    paths = {
        "unknown_key": "bogus=1", "no_value": "blocks", "int_text": "fuse_in=many", "int_digits": "fuse_in=" + "9" * 5001,
        "int_huge": "fuse_in=99999", "fraction_out": "gate_prune=1.5", "fraction_nan": "gate_prune=nan",
        "fraction_inf": "cts_reduction=inf", "blocks_neg": "blocks=2--3", "blocks_long": "blocks=" + "-".join(["1"] * 5000),
        "twice": "fuse_in=512;fuse_in=256", "pause_bad": "pause=3:2.0", "cluster_bad": "cluster=0x0",
        "wrong_family": "cluster=28x28", "variant_bad": "variant=b99", "long": "a=" * 3000, "nul": "fuse_in=5\x00",
        "unicode": "fuse_in=\u00bd",
    }
    for name, text in paths.items():
        c.case("exec_path", name, ["workload", "show", "segformer-b0", "--exec-path", text], expect=["path"])


def cli_cases(c: Corpus) -> None:
    tiny = "{corpus}/ok/tiny_layers.yaml"
    cases = {
        "input_text": (["simulate", "-w", "segformer-b0", "--input", "50x"], "input size"),
        "input_zero": (["simulate", "-w", "segformer-b0", "--input", "0x0"], "input size"),
        "input_huge": (["simulate", "-w", "segformer-b0", "--input", "100000x100000"], "input size"),
        "input_digits": (["simulate", "-w", "segformer-b0", "--input", "9" * 5001], "input size"),
        "classes_zero": (["simulate", "-w", "segformer-b0", "--classes", "0"], "--classes"),
        "classes_huge": (["simulate", "-w", "segformer-b0", "--classes", "99999999999"], "--classes"),
        "classes_text": (["simulate", "-w", "segformer-b0", "--classes", "many"], "--classes"),
        "objective": (["simulate", "-w", tiny, "--objective", "speed"], "--objective"),
        "max_candidates": (["simulate", "-w", tiny, "--max-candidates", "0"], "--max-candidates"),
        "arch_unknown": (["simulate", "-w", tiny, "--arch", "Z"], "unknown architecture"),
        "arch_long": (["simulate", "-w", tiny, "--arch", "Z" * 5000], "5,000 characters long"),
        "workload_unknown": (["simulate", "-w", "nosuchnet"], "unknown workload"),
        "workers_zero": (["sweep", "-w", tiny, "--arch", "E", "--workers", "0"], "--workers"),
        "grid_huge": (["sweep", "--base", "E", "--grid", "num_pe=1e12", "-w", tiny, "--workers", "1", "--no-progress"],
                      "num_pe"),
        "grid_text": (["sweep", "--base", "E", "--grid", "k0=a,b", "-w", tiny, "--workers", "1", "--no-progress"], "k0"),
        "grid_unknown": (["sweep", "--base", "E", "--grid", "colour=1", "-w", tiny, "--no-progress"], "colour"),
        "grid_form": (["sweep", "--base", "E", "--grid", "num_pe", "-w", tiny], "--grid"),
        "grid_inf": (["sweep", "--base", "E", "--grid", "frequency_ghz=inf", "-w", tiny, "--no-progress"],
                     "frequency_ghz"),
        "constraint": (["sweep", "--base", "E", "--grid", "k0=8,16", "--constraint", "9**9**9 > 0", "-w", tiny,
                        "--no-progress"], "constraint"),
        "sweep_output_suffix": (["sweep", "--arch", "E", "-w", tiny, "-o", "{tmp}/r.txt", "--no-progress"], "r.txt"),
        "sweep_output_folder": (["sweep", "--arch", "E", "-w", tiny, "-o", "{tmp}", "--no-progress"], "{tmp}"),
        "sweep_layers_same": (["sweep", "--arch", "E", "-w", tiny, "-o", "{tmp}/r.csv", "--layers", "{tmp}/r.csv",
                               "--no-progress"], "r.csv"),
        "sweep_cache_file": (["sweep", "--arch", "E", "-w", tiny, "--cache", "{corpus}/ok/tiny_layers.yaml",
                              "--no-progress"], "tiny_layers.yaml"),
        "simulate_out_folder": (["simulate", "-w", tiny, "-o", "{tmp}"], "{tmp}"),
        "plot_out_suffix": (["plot", "macs", "-w", tiny, "-o", "{tmp}/fig.bmp"], "fig.bmp"),
        "import_out_folder": (["workload", "import", "{corpus}/import/garbage.pt2", "-o", "{tmp}"], "{tmp}"),
        "report_not_empty": (["report", "--out", "{corpus}/ok", "--no-paths", "--no-progress"], "--force"),
        "format": (["arch", "list", "--format", "xml"], "--format"),
        "pareto_by": (["pareto", "{corpus}/ok/results.csv", "--by", "nosuchcol"], "nosuchcol"),
        "pareto_min_text": (["pareto", "{corpus}/ok/results.csv", "--min", "arch", "--max", "throughput"], "arch"),
        "pareto_min_unknown": (["pareto", "{corpus}/ok/results.csv", "--min", "nosuch", "--max", "throughput"],
                               "nosuch"),
        "pareto_one_objective": (["pareto", "{corpus}/ok/results.csv", "--min", "energy"], "objectives"),
        "plot_group_col": (["plot", "energy-throughput", "{corpus}/ok/results.csv", "--group-col", "nosuch",
                            "-o", "{tmp}/f.png"], "nosuch"),
        "plot_label_col": (["plot", "energy-throughput", "{corpus}/ok/results.csv", "--label-col", "nosuch",
                            "-o", "{tmp}/f.png"], "nosuch"),
        "plot_accuracy_y": (["plot", "accuracy", "{corpus}/ok/results.csv", "--y", "nosuch", "-o", "{tmp}/f.png"],
                            "nosuch"),
        "rdd_budget": (["rdd", "-w", "segformer-b2", "--arch", "E", "--budget-latency", "3parsecs"], "3parsecs"),
        "rdd_results_missing": (["rdd", "--budget-latency", "3ms", "--results", "{tmp}/none.csv"], "none.csv"),
        "accuracy_csv_missing": (["paths", "show", "-w", "segformer-b0", "--accuracy-csv", "{tmp}/none.csv"],
                                 "none.csv"),
    }
    for name, (argv, fragment) in cases.items():
        c.case("cli", name, argv, expect=[fragment])


def results_cases(c: Corpus) -> None:
    good = (c.root / "ok" / "results.csv").read_text()
    header, first = good.splitlines()[:2]
    cols = header.split(",")
    nan_row = ",".join("" if col in ("energy_per_op_j", "throughput_ops_per_s_per_mm2", "latency_s", "energy_j")
                       else v for col, v in zip(cols, first.split(",")))
    files: dict[str, bytes] = {
        "binary.csv": bytes(range(256)) * 8, "utf16.csv": good.encode("utf-16"), "empty.csv": b"",
        "header_only.csv": (header + "\n").encode(), "ragged.csv": b"a,b\n1,2\n3,4,5,6,7\n",
        "all_nan.csv": (header + "\n" + nan_row + "\n" + nan_row + "\n").encode(),
        "text_costs.csv": (header + "\n" + first.replace(first.split(",")[cols.index("energy_per_op_j")], "cheap")
                           + "\n").encode(),
        "no_cost_columns.csv": b"arch,workload\nE,segformer-b0\n", "one_column.csv": b"x\n1\n2\n",
        "quote_open.csv": (header + "\n\"" + first + "\n").encode(), "nul.csv": b"a,b\n1,\x00\n",
        "garbage.parquet": b"PAR1 not really parquet PAR1", "csv_as.parquet": good.encode(),
        "empty.parquet": b"", "latin1.csv": ("arch,caf\xe9\nE,1\n").encode("latin-1"),
        "digits.csv": (header + "\n" + first.replace(first.split(",")[cols.index("energy_per_op_j")], DIGITS)
                       + "\n").encode(),
    }
    for name, data in files.items():
        rel = c.file("results", name, data)
        c.case("results", name.replace(".", "_") + "-pareto", ["pareto", "{case}"], rel)
        c.case("results", name.replace(".", "_") + "-plot", ["plot", "energy-throughput", "{case}", "-o",
                                                             "{tmp}/f.png"], rel)


def import_cases(c: Corpus) -> None:
    argv = ["workload", "import", "{case}", "-o", "{tmp}/out.yaml"]
    good = c.root / "ok" / "tiny.pt2"
    zf = zipfile.ZipFile(good)
    entries = {i.filename: zf.read(i) for i in zf.infolist()}
    root = next(iter(entries)).split("/")[0]

    def archive(name: str, change: Callable[[dict], None]) -> None:
        e = dict(entries)
        change(e)
        c.case("import", name, argv, c.file("import", name + ".pt2", _zip(e)))

    def edit(member: str, change: Callable[[dict], None]) -> Callable[[dict], None]:
        """An archive change that edits the JSON entry ``member``."""
        def apply(e: dict) -> None:
            doc = json.loads(e[f"{root}/{member}"])
            change(doc)
            e[f"{root}/{member}"] = json.dumps(doc).encode()
        return apply

    def model(change: Callable[[dict], None]) -> Callable[[dict], None]:
        return edit("models/model.json", change)

    def weights(change: Callable[[dict], None]) -> Callable[[dict], None]:
        return edit("data/weights/model_weights_config.json", change)

    def first_weight(doc: dict) -> dict:
        return next(iter(doc["config"].values()))

    def first_node(doc: dict) -> dict:
        return doc["graph_module"]["graph"]["nodes"][0]

    raw = {"garbage": b"not a zip at all", "empty": b"", "truncated": good.read_bytes()[:300],
           "zip_of_text": _zip({"x/readme.txt": b"hello"})}
    for name, data in raw.items():
        c.case("import", name, argv, c.file("import", name + ".pt2", data))
    archive("no_format", lambda e: e.pop(f"{root}/archive_format"))
    archive("format_other", lambda e: e.update({f"{root}/archive_format": b"zip"}))
    archive("legacy_format", lambda e: (e.clear(), e.update({"x/serialized_exported_program.json": b"{}"})))
    archive("no_model", lambda e: e.pop(f"{root}/models/model.json"))
    archive("model_not_json", lambda e: e.update({f"{root}/models/model.json": b"{not json"}))
    archive("model_deep_json", lambda e: e.update({f"{root}/models/model.json": b"[" * 100_000 + b"]" * 100_000}))
    archive("model_list", lambda e: e.update({f"{root}/models/model.json": b"[]"}))
    archive("aotinductor", lambda e: e.update({f"{root}/data/aotinductor/model/x.so": b"\x7fELF"}))
    archive("pickled_weight", weights(lambda d: first_weight(d).update(use_pickle=True)))
    archive("legacy_pickled_weights", lambda e: e.update({f"{root}/data/weights/model.pt": b"\x80\x04N."}))
    archive("weight_symbolic", weights(lambda d: first_weight(d)["tensor_meta"].update(sizes=[{"as_expr": "s0"}])))
    archive("weight_too_big", weights(lambda d: first_weight(d)["tensor_meta"].update(sizes=[{"as_int": 10**6}])))
    archive("weight_dtype", weights(lambda d: first_weight(d)["tensor_meta"].update(dtype=999)))
    archive("weight_path", weights(lambda d: first_weight(d).update(path_name="../../etc/passwd")))
    archive("custom_object", lambda e: e.update({f"{root}/data/constants/model_constants_config.json":
                                                 json.dumps({"config": {"obj": {"path_name": "custom_obj_0",
                                                                                "use_pickle": True}}}).encode()}))
    archive("target_exec", model(lambda d: first_node(d).update(target="builtins.exec")))
    archive("target_torch_load", model(lambda d: first_node(d).update(target="torch.load")))
    archive("target_from_file", model(lambda d: first_node(d).update(target="torch.ops.aten.from_file.default")))
    archive("target_unknown_op", model(lambda d: first_node(d).update(target="torch.ops.aten.nosuchop.default")))
    archive("target_hop", model(lambda d: first_node(d).update(target="torch.ops.higher_order.cond")))
    archive("arg_kind", model(lambda d: first_node(d)["inputs"][0].update(arg={"as_graph": {}})))
    archive("arg_unknown_name", model(lambda d: first_node(d)["inputs"][0].update(arg={"as_tensor": {"name": "zz"}})))
    archive("input_symbolic", model(lambda d: d["graph_module"]["graph"]["tensor_values"]["x"].update(
        sizes=[{"as_expr": {"expr_str": "s0"}}] * 4)))
    archive("signature_kind", model(lambda d: d["graph_module"]["signature"]["input_specs"].append(
        {"custom_obj": {"arg": {"name": "o"}, "custom_obj_name": "o"}})))
    archive("nodes_missing", model(lambda d: d["graph_module"]["graph"].pop("nodes")))
    onnx = {"garbage": b"not a protobuf \xff\xfe", "empty": b"", "truncated": b"\x08\x07\x12\x04abc"}
    for name, data in onnx.items():
        c.case("import", name + "_onnx", argv, c.file("import", name + ".onnx", data))
    c.case("import", "suffix_h5", argv, c.file("import", "model.h5", b"x"))
    c.case("import", "no_suffix", argv, c.file("import", "model", b"x"))


def peer_format_cases(c: Corpus) -> None:
    """Layer lists in the peers' formats: a Timeloop problem YAML and SCALE-Sim topology CSVs."""
    argv = ["workload", "import", "{case}", "-o", "{tmp}/out.yaml"]
    problem = {"problem": {"version": 0.4, "instance": {
        "C": 256, "M": 256, "R": 3, "S": 3, "N": 1, "P": 14, "Q": 14,
        "Wstride": 1, "Hstride": 1, "Wdilation": 1, "Hdilation": 1}}}
    dims = ["C", "M", "R", "S", "N", "P", "Q", "Wstride", "Hdilation"]
    c.yaml_cases("timeloop", problem, argv, {f"problem.instance.{d}": INTEGER for d in dims},
                 extra={"no_problem": {"layers": []}, "no_instance": {"problem": {"version": 0.4}},
                        "instance_list": {"problem": {"instance": [1, 2]}},
                        "jinja": "problem: {{ layer }}\n",
                        "include_missing": "{{include_text('nowhere.yaml')}}\nproblem: {}\n",
                        "gemm_problem": {"problem": {"shape": {"name": "gemm_ABZ"}, "instance": {"M": 4}}}},
                 per_field=3)
    head = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
    rows = {"ok_row": "conv1,229,229,7,7,3,64,2,\n", "text": "conv1,229,x,7,7,3,64,2,\n",
            "negative": "conv1,229,229,7,7,-3,64,2,\n", "zero_stride": "conv1,229,229,7,7,3,64,0,\n",
            "fraction": "conv1,229,229,7,7,3.5,64,2,\n", "huge": f"conv1,{10**12},229,7,7,3,64,2,\n",
            "filter_larger": "conv1,5,5,7,7,3,64,1,\n", "missing_cells": "conv1,229,229\n",
            "digits5001": f"conv1,{DIGITS},229,7,7,3,64,2,\n"}
    for name, row in rows.items():
        if name != "ok_row":
            c.case("scalesim", name, argv, c.file("scalesim", name + ".csv", head + row))
    extra = {"header_only": head, "no_header": rows["ok_row"], "unknown_header": "a,b,c\n1,2,3\n",
             "gemm_text": "Layer, M, N, K,\nfc,12,x,4,\n", "gemm_zero": "Layer, M, N, K,\nfc,12,0,4,\n",
             "binary": bytes(range(256)) * 4, "utf16": (head + rows["ok_row"]).encode("utf-16"),
             "empty": b""}
    for name, data in extra.items():
        c.case("scalesim", name, argv, c.file("scalesim", name + ".csv", data))


def peer_hostile_cases(c: Corpus) -> None:
    """Hostile peer-format inputs: .pt2 sizes, op names and zip members; SCALE-Sim headers;
    Timeloop include_text trees; ZigZag workload YAML; AccelForge einsum templates."""
    argv = ["workload", "import", "{case}", "-o", "{tmp}/out.yaml"]
    good = c.root / "ok" / "tiny.pt2"
    with zipfile.ZipFile(good) as zf:
        entries = {i.filename: zf.read(i) for i in zf.infolist()}
    root = next(iter(entries)).split("/")[0]
    model_key, weights_key = f"{root}/models/model.json", f"{root}/data/weights/model_weights_config.json"

    def pt2(name: str, member: str, change: Callable[[dict], None], expect: str) -> None:
        e = dict(entries)
        doc = json.loads(e[member])
        change(doc)
        e[member] = json.dumps(doc).encode()
        c.case("pt2_hostile", name, argv, c.file("pt2_hostile", name + ".pt2", _zip(e)), [expect])

    def x_sizes(sizes: list) -> Callable[[dict], None]:
        return lambda d: d["graph_module"]["graph"]["tensor_values"]["x"].update(
            sizes=sizes, strides=[{"as_int": 1}] * len(sizes))

    def target(t: str) -> Callable[[dict], None]:
        return lambda d: d["graph_module"]["graph"]["nodes"][0].update(target=t)

    def weight_sizes(d: dict) -> None:
        meta = next(iter(d["config"].values()))
        meta["tensor_meta"].update(sizes=[{"as_int": 2**20}, {"as_int": 2**20}], strides=[{"as_int": 0}] * 2)

    pt2("input_2p40", model_key, x_sizes([{"as_int": 2**40}]), "per dimension")
    pt2("input_4d_2p20", model_key, x_sizes([{"as_int": 2**20}] * 4), "elements; at most")
    pt2("input_bool", model_key, x_sizes([{"as_int": True}, {"as_int": 3}, {"as_int": 8}, {"as_int": 8}]),
        "not an int64 size")
    pt2("input_int64_overflow", model_key, x_sizes([{"as_int": 2**64}, {"as_int": 3}, {"as_int": 8}, {"as_int": 8}]),
        "not an int64 size")
    pt2("weight_2p42_elements", weights_key, weight_sizes, "elements; at most")
    for name, t in (("op_class_init", "torch.ops.aten.__class__.__init__"), ("op_dict_clear", "torch.ops.aten.__dict__.clear"),
                    ("op_dir_append", "torch.ops.aten.__dir__.append"), ("op_upper_case", "torch.ops.aten.Conv2d.default"),
                    ("op_not_listed", "torch.ops.aten.cholesky.default")):
        pt2(name, model_key, target(t), "ATen operator")
    encrypted = bytearray(_zip(entries))  # the model member marked encrypted (flag bit 0), both headers
    info = zipfile.ZipFile(io.BytesIO(bytes(encrypted))).getinfo(model_key)
    encrypted[info.header_offset + 6] |= 0x1
    central = encrypted.find(b"PK\x01\x02")
    while central >= 0:
        if encrypted[central + 46:central + 46 + len(model_key)] == model_key.encode():
            encrypted[central + 8] |= 0x1
        central = encrypted.find(b"PK\x01\x02", central + 4)
    c.case("pt2_hostile", "encrypted_member", argv, c.file("pt2_hostile", "encrypted_member.pt2", bytes(encrypted)),
           ["is encrypted"])

    head = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
    scalesim = {
        "v3_layout": ("Layer name,IFMAP Height Intraline Factor,IFMAP Width Intraline Factor,Channel Intraline Factor,\n"
                      "Conv1,2,2,16,\n", "SCALE-Sim v3 layout file"),
        "column_twice": ("Layer name, M, N, K, K,\nfc,1,2,3,4,\n", "twice"),
        "no_name_column": ("M, N, K,\n1,2,3,\n", "neither"),
        "cell_5000": (head + "c" * 5000 + ",8,8,3,3,4,4,1,\n", "a cell of over"),
        "field_over_csv_limit": (head + "c" * 140_000 + ",8,8,3,3,4,4,1,\n", "not CSV"),
        "gemm_as_conv_prime_rows": (head + "g,2000003,64,1,64,1,8,1,\n", "cannot be split"),
        "fold_prime": (head + "u,2000005,3,3,3,8,8,1,\n", "cannot be folded"),
        "digits_19": (head + "c,9999999999999999999,8,3,3,4,4,1,\n", "positive integer"),
    }
    for name, (text, expect) in scalesim.items():
        c.case("scalesim_header", name, argv, c.file("scalesim_header", name + ".csv", text), [expect])

    problem = "problem:\n  instance: {C: 8, M: 8}\n"
    for level in range(6):
        body = f"{{{{include_text('bomb{level + 1}.yaml')}}}}\n" * 16 if level < 5 else "# leaf\n"
        c.file("timeloop_include", f"bomb{level}.txt", body)
        if level:
            c.file("timeloop_include", f"bomb{level}.yaml", body)
    timeloop = {
        "fan_out_bomb": "{{include_text('bomb1.yaml')}}\n" + problem,
        "absolute_passwd": "{{include_text('/etc/passwd')}}\n" + problem,
        "climb_out": "{{include_text('../../../../../../../../etc/hostname')}}\n" + problem,
        "densities": "problem:\n  instance: {C: 8, M: 8, densities: {Inputs: 0.5}}\n",
        "gemm_odd_shape": "problem:\n  shape: {name: mttkrp, dimensions: [I, J, K, L]}\n  instance: {I: 2}\n",
        "accelforge_jinja": ("workload:\n  rank_sizes:\n    {% set B = B | default(1) %}\n    B: {{B}}\n  einsums:\n"
                             "  - name: Matmul\n    tensor_accesses:\n    - {name: I, projection: [m, k]}\n"),
    }
    expects = {"fan_out_bomb": "include_text pastes", "absolute_passwd": "is outside", "climb_out": "is outside",
               "densities": "sparse problems are not supported", "gemm_odd_shape": "nor a plain GEMM",
               "accelforge_jinja": "AccelForge workload"}
    for name, text in timeloop.items():
        c.case("timeloop_include", name, argv, c.file("timeloop_include", name + ".yaml", text), [expects[name]])

    layer = {"id": 0, "operator_type": "Conv", "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
             "dimension_relations": ["ix=1*ox+1*fx", "iy=1*oy+1*fy"], "loop_dims": ["B", "K", "C", "OY", "OX", "FY", "FX"],
             "loop_sizes": [1, 8, 8, 8, 8, 3, 3], "operand_precision": {"O": 16}, "operand_source": {"I": 0, "W": 0}}
    zigzag = {
        "equation_text": ({**layer, "equation": "import os"}, "equation"),
        "sizes_mismatch": ({**layer, "loop_sizes": [1, 8]}, "same length"),
        "size_huge": ({**layer, "loop_sizes": [1, 2**41, 8, 8, 8, 3, 3]}, "loop_sizes"),
        "size_text": ({**layer, "loop_sizes": [1, "8", 8, 8, 8, 3, 3]}, "loop_sizes"),
        "relation_bad": ({**layer, "dimension_relations": ["ix=ox**fx"]}, "dimension_relations"),
        "source_unknown": ({**layer, "operand_source": {"I": 7, "W": 0}}, "operand_source.I"),
        "padding_differs": ({**layer, "pr_loop_dims": ["IY", "IX"], "padding": [[1, 1], [2, 2]]}, "padding"),
        "id_text": ({**layer, "id": "zero"}, "'id'"),
        "over_limit_k": ({**layer, "loop_sizes": [1, 2**21, 8, 8, 8, 3, 3]}, "field 'k'"),
    }
    for name, (doc, expect) in zigzag.items():
        c.case("zigzag", name, argv, c.file("zigzag", name + ".yaml", dump([doc])), [expect])
    c.case("zigzag", "id_twice", argv, c.file("zigzag", "id_twice.yaml", dump([layer, layer])), ["repeats id"])
    c.case("zigzag", "layer_not_map", argv, c.file("zigzag", "layer_not_map.yaml", dump([layer, 3])), ["mapping"])


def mapping_file_cases(c: Corpus) -> None:
    """Mappings written by hand for `accelsim map --mapping` (ResNet-50 layer3.1.conv2 on E)."""
    argv = ["map", "-w", "resnet50", "--layer", "layer3.1.conv2", "--mapping", "{case}"]
    base = {"spatial_k": 2, "spatial_p": 8, "spatial_c": 1, "spatial_g": 1, "tile_k": 32, "tile_c": 32,
            "tile_p": 2, "tile_q": 14, "loop_order": "K,C,PQ"}
    fields = {f: INTEGER for f in base if f != "loop_order"} | {"loop_order": TEXT}
    c.yaml_cases("mapping", base, argv, fields, per_field=3,
                 extra={"split_above_num_pe": base | {"spatial_k": 4, "spatial_p": 8},
                        "tile_too_big": base | {"tile_c": 256, "tile_p": 14},
                        "unknown_order": base | {"loop_order": "Q,K,C"},
                        "unknown_field": base | {"spatial_x": 2},
                        "other_layer": base | {"layer": "layer1.0.conv1"}})


GPU_HEADER = ("# accelsim-gpu-measurement\n# kind = \"per-layer\"\n# device_name = \"GPU X\"\n"
              "# dtype = \"fp16\"\n# workload = \"segformer-b0\"\n# input = \"64x64\"\n# exec_path = \"\"\n")
GPU_TABLE = ("name,op,macs,median_s,p10_s,energy_j,status\n"
             "a,conv2d,1000,0.001,0.0009,nan,ok\nb,linear,2000,0.002,0.0019,nan,ok\n")


def gpu_data_cases(c: Corpus) -> None:
    """GPU measurement files (`accelsim gpu measure` output) given to every command that
    reads them: missing columns, text or bad numbers in numeric columns, bad metadata,
    file-level damage."""
    good = GPU_HEADER + GPU_TABLE
    head, rows = GPU_TABLE.split("\n", 1)
    cols = head.split(",")

    def cell(col: str, value: str) -> str:
        first, rest = rows.split("\n", 1)
        cells = first.split(",")
        cells[cols.index(col)] = value
        return GPU_HEADER + head + "\n" + ",".join(cells) + "\n" + rest

    def drop(col: str) -> str:
        i = cols.index(col)
        lines = [",".join(x for j, x in enumerate(line.split(",")) if j != i) for line in GPU_TABLE.splitlines()]
        return GPU_HEADER + "\n".join(lines) + "\n"

    files: dict[str, "str | bytes"] = {f"missing_{col}": drop(col) for col in ("name", "op", "macs", "median_s")}
    for col, values in {"median_s": ["abc", "-0.001", "0", "inf", "-inf", "nan", "1e400"],
                        "p10_s": ["text", "-1", "inf"], "macs": ["lots", "-5", "inf"],
                        "energy_j": ["-1", "inf", "joules"]}.items():
        for v in values:
            files[f"{col}_{v.replace('-', 'neg').replace('.', '_')}"] = cell(col, v)
    for name, value in {"abc": '"abc"', "number": "1e3", "list": "[64, 64]", "zero": '"0x64"',
                        "three": '"64x64x3"', "map": '{"h": 64}', "digits": '"' + "9" * 5001 + 'x1"'}.items():
        files[f"input_{name}"] = good.replace('# input = "64x64"', f"# input = {value}")
    files.update({
        "kind_unknown": good.replace('# kind = "per-layer"', '# kind = "sideways"'),
        "meta_not_json": good.replace('# dtype = "fp16"', "# dtype = fp16"),
        "meta_no_equals": good.replace('# dtype = "fp16"', "# dtype"),
        "no_magic": GPU_TABLE, "latin1": ("# accelsim-gpu-measurement\n# label = \"caf\xe9\"\n" + GPU_TABLE)
        .encode("latin-1"), "binary": bytes(range(256)) * 4, "empty": b"", "header_only": GPU_HEADER,
        "ragged": GPU_HEADER + head + "\na,conv2d,1,2,3,4,5,6,7,8\n",
    })
    for name, data in files.items():
        rel = c.file("gpu", name + ".csv", data)
        for cmd, argv in {"table": ["gpu", "table", "--no-write", "--glob", "{case}"],
                          "share": ["plot", "gpu-share", "--gpu", "{case}", "-o", "{tmp}/share.png"],
                          "rdd": ["rdd", "--budget-latency", "3ms", "--results", "{case}"],
                          "accuracy": ["plot", "accuracy", "{corpus}/ok/results.csv", "--gpu", "{case}",
                                       "-o", "{tmp}/acc.png"]}.items():
            c.case("gpu", f"{name}-{cmd}", argv, rel)
    ok = c.file("gpu", "ok_measurement.txt", good)  # a good file (not *.csv: no case reads it alone)
    for name, data in {"readme_latin1": "caf\xe9\n".encode("latin-1"), "readme_binary": bytes(range(256))}.items():
        rel = c.file("gpu", name + ".md", data)
        c.case("gpu", name, ["gpu", "table", "--glob", "{corpus}/" + ok, "--readme", "{case}"], rel)


def result_value_cases(c: Corpus) -> None:
    """Result tables with values `pareto` and `plot` must not rank: a repeated header,
    infinite or negative costs, text in a numeric column, JSON constants, a truncated
    table whose checksum file says so."""
    import hashlib

    good = (c.root / "ok" / "results.csv").read_text()
    header, *rows = good.splitlines()
    cols = header.split(",")

    def with_cell(col: str, value: str, row: int = 1) -> str:
        cells = rows[row].split(",")
        cells[cols.index(col)] = value
        return "\n".join([header, *rows[:row], ",".join(cells), *rows[row + 1:]]) + "\n"

    files: dict[str, str] = {"header_twice.csv": "\n".join([header, header, *rows]) + "\n",
                             "header_inside.csv": "\n".join([header, rows[0], header, *rows[1:]]) + "\n"}
    for col in ("energy_per_op_j", "energy_j", "latency_s", "area_mm2", "throughput_ops_per_s_per_mm2"):
        for name, value in {"inf": "inf", "neginf": "-inf", "negative": "-1e-12", "text": "cheap"}.items():
            files[f"{col}-{name}.csv"] = with_cell(col, value)
    records = [dict(zip(cols, r.split(","))) for r in rows]
    for r in records:
        for k in ("energy_per_op_j", "throughput_ops_per_s_per_mm2", "energy_j", "latency_s"):
            r[k] = float(r[k])
    for const in ("Infinity", "-Infinity", "NaN"):
        text = json.dumps(records, indent=1)
        files[f"json_{const.replace('-', 'neg')}.json"] = text.replace(
            json.dumps(records[1]["energy_per_op_j"]), const, 1)
    for name, data in files.items():
        rel = c.file("results", name, data)
        c.case("results", name.replace(".", "_") + "-pareto", ["pareto", "{case}"], rel)
        c.case("results", name.replace(".", "_") + "-plot", ["plot", "energy-throughput", "{case}", "-o",
                                                             "{tmp}/f.png"], rel)
    digest = hashlib.sha256(good.encode()).hexdigest()
    for name, data in {"truncated": good[: len(good) // 3], "edited": good.replace("tiny", "tinier")}.items():
        rel = c.file("results", f"{name}.csv", data)
        c.file("results", f"{name}.csv.sha256", f"{digest}  {name}.csv\n")
        c.case("results", f"{name}-checksum", ["pareto", "{case}"], rel, expect=["checksum"])


def output_cases(c: Corpus) -> None:
    """Outputs and numbers refused before any work: `map --save-mapping` targets, empty
    `-o`, integers past their range, non-finite budgets, an over-long path."""
    tiny = "{corpus}/ok/tiny_layers.yaml"
    map_argv = ["map", "-w", tiny, "--layer", "conv", "--max-candidates", "10"]
    cases = {
        "save_mapping_folder": (map_argv + ["--save-mapping", "{tmp}"], "{tmp}"),
        "save_mapping_under_file": (map_argv + ["--save-mapping", "{corpus}/ok/results.csv/m.yaml"], "results.csv"),
        "save_mapping_dev_full": (map_argv + ["--save-mapping", "/dev/full"], "/dev/full"),
        "save_mapping_empty": (map_argv + ["--save-mapping", ""], "--save-mapping"),
        "map_out_under_file": (map_argv + ["-o", "{corpus}/ok/results.csv/nest.txt"], "is a file"),
        "simulate_out_empty": (["simulate", "-w", tiny, "-o", ""], "-o"),
        "pareto_out_empty": (["pareto", "{corpus}/ok/results.csv", "-o", ""], "-o"),
        "plot_out_empty": (["plot", "macs", "-w", tiny, "-o", ""], "-o"),
        "gpu_readme_empty": (["gpu", "table", "--readme", ""], "--readme"),
        "report_out_empty": (["report", "--out", ""], "--out"),
        "sweep_cache_empty": (["sweep", "--arch", "E", "-w", tiny, "--cache", ""], "--cache"),
        "simulate_out_under_file": (["simulate", "-w", tiny, "-o", "{corpus}/ok/results.csv/r.csv"], "is a file"),
        "max_candidates_huge": (["map", "-w", tiny, "--layer", "conv", "--max-candidates", "9" * 23],
                                "--max-candidates"),
        "simulate_candidates_huge": (["simulate", "-w", tiny, "--max-candidates", "9" * 30], "--max-candidates"),
        "top_huge": (["simulate", "-w", tiny, "--top", "9" * 30], "--top"),
        "workers_huge": (["sweep", "--arch", "E", "-w", tiny, "--workers", "9" * 20], "--workers"),
        "chunk_huge": (["sweep", "--arch", "E", "-w", tiny, "--chunk-size", "9" * 20], "--chunk-size"),
        "steps_huge": (["rdd", "-w", "segformer-b2", "--budget-latency", "3ms", "--steps", "9" * 20], "--steps"),
        "repeats_huge": (["gpu", "measure", "-w", tiny, "--device", "cpu", "--max-repeats", "9" * 20],
                         "--max-repeats"),
        "tolerance_nan": (["simulate", "-w", tiny, "--tolerance", "nan"], "--tolerance"),
        "rel_ci_inf": (["gpu", "measure", "-w", tiny, "--device", "cpu", "--rel-ci", "inf"], "--rel-ci"),
        "rdd_budget_inf": (["rdd", "-w", "segformer-b2", "--budget-latency", "infms"], "infms"),
        "rdd_budget_overflow": (["rdd", "-w", "segformer-b2", "--budget-energy", "1e400mJ"], "1e400mJ"),
        "arch_path_long": (["simulate", "-w", tiny, "--arch", "a/" * 3000 + "x.yaml"], "a path of 6,006 characters"),
        "arch_name_long": (["simulate", "-w", tiny, "--arch", "a/" * 3000], "the path is 6,000 characters long"),
    }
    for name, (argv, fragment) in cases.items():
        c.case("outputs", name, argv, expect=[fragment])


def _zip(entries: dict[str, bytes]) -> bytes:
    """A zip of ``entries``, stored uncompressed with fixed dates (byte-identical every run)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for k, v in entries.items():
            z.writestr(zipfile.ZipInfo(k, date_time=(2024, 1, 1, 0, 0, 0)), v)
    return buf.getvalue()


# ------------------------------------------------------------------ valid inputs the cases derive from
def ok_files(c: Corpus) -> None:
    """A tiny layer list, a small results table and a tiny .pt2 (all valid)."""
    sys.path.insert(0, str(ROOT))
    from accelsim.workload import Builder
    from accelsim.workload.yamlio import save_workload_yaml

    b = Builder()
    x = b.input(8, 8, 8)
    y = b.conv("conv", x, 16, 3, pad=1)
    y = b.act("relu", y)
    y = b.conv("proj", y, 8, 1)
    save_workload_yaml(b.workload(name="tiny", family="test", variant="t", input_size=(8, 8), num_classes=0),
                       c.root / "ok" / "tiny_layers.yaml")
    header = ("arch,workload,exec_path,macs,latency_s,energy_j,area_mm2,energy_per_op_j,"
              "throughput_ops_per_s_per_mm2,utilization,accuracy,accuracy_metric,objective,max_candidates,error")
    rows = [f"{a},tiny,,1000,{1e-6 * i},{1e-9 * (5 - i)},{1.0 + i},{1e-13 * (5 - i)},{1e12 * i},0.5,,unknown,"
            "latency,," for i, a in enumerate("ABCD", start=1)]
    c.file("ok", "results.csv", "\n".join([header, *rows]) + "\n")
    c.file("ok", "cache_is_file.yaml", "not a folder\n")
    import torch

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return self.conv(x)

    torch.manual_seed(0)
    ep = torch.export.export(Tiny(), (torch.randn(1, 3, 8, 8),))
    buf = io.BytesIO()
    torch.export.save(ep, buf)
    with zipfile.ZipFile(buf) as z:  # the same bytes every run: fixed id and dates
        entries = {i.filename: z.read(i) for i in z.infolist()}
    for k in entries:  # the same bytes every run and on every machine: no ids, no source paths
        if k.endswith("serialization_id"):
            entries[k] = b"0" * 40
        if k.endswith("models/model.json"):
            doc = json.loads(entries[k])
            for node in doc["graph_module"]["graph"]["nodes"]:
                node["metadata"] = {}
            entries[k] = json.dumps(doc).encode()
    c.file("ok", "tiny.pt2", _zip(entries))


def main(root: Path = CORPUS) -> Corpus:
    if root.exists():
        shutil.rmtree(root)
    c = Corpus(root)
    ok_files(c)
    for make in (arch_cases, tech_cases, layer_list_cases, workload_cases, spec_cases, constraint_cases,
                 exec_path_cases, cli_cases, results_cases, import_cases, peer_format_cases,
                 mapping_file_cases, peer_hostile_cases, gpu_data_cases, result_value_cases, output_cases):
        make(c)
    # a spec's relative paths (cache: cache_is_file.yaml) resolve next to the spec
    shutil.copy(root / "ok" / "cache_is_file.yaml", root / "spec" / "cache_is_file.yaml")
    c.write()
    return c


if __name__ == "__main__":
    corpus = main(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS)
    kinds: dict[str, int] = {}
    for case in corpus.cases:
        kinds[case["kind"]] = kinds.get(case["kind"], 0) + 1
    print(f"{len(corpus.cases)} cases: " + ", ".join(f"{k} {n}" for k, n in kinds.items()))
