"""One path list everywhere: path families, path-list files, ``sweep --paths`` and scopes in
one sweep (issue: paths enumerate cannot feed a sweep; both scopes in one run)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import accelsim
from accelsim.cli.main import main
from accelsim.errors import AccelsimError
from accelsim.paths.families import PathEntry, family_names, path_list, paths_of, with_known_accuracy
from accelsim.paths.listing import path_list_text, read_path_list
from accelsim.paths.syntax import FULL_MODEL, canonical_path


@pytest.fixture(scope="module")
def b2():
    return accelsim.load_workload("segformer-b2")


def test_segformer_b2_list_counts(b2):
    """Hand count: each of 4 stages keeps its depth or drops one block (2^4 = 16 choices),
    times fuse_in at 3072 (unpruned) or 2944, 2816, ..., 128 in steps of 128 (1 + 23 = 24):
    16 x 24 = 384 grid paths, the full model among them. The published B2_a/B2_b
    (blocks=3-4-6-3 is B2's own depth) coincide with grid paths; pred_in=736 and the two
    DynaSegFormer paths are new (3), and B0, B1 are the cheaper variants (2): 389."""
    entries = path_list(b2)
    assert entries[0] == PathEntry("", "full")
    fams = pd.Series([e.family for e in entries]).value_counts().to_dict()
    assert fams == {"full": 1, "grid": 383, "published": 3, "switch": 2}
    paths = [e.exec_path for e in entries]
    assert len(paths) == len(set(paths)) == 389
    assert {"pred_in=736", "gate_prune=0.3;decoder_sum=1", "variant=b0", "variant=b1",
            "fuse_in=1920"} <= set(paths)
    assert "blocks=3-4-6-3;fuse_in=1920" not in paths  # written without keys that change nothing


def test_families_by_model_family():
    assert family_names("segformer") == ["grid", "published", "dynaseg", "switch"]
    assert family_names("segmenter") == ["published", "switch", "pause", "cluster", "cts"]
    assert family_names("ofa_resnet50") == ["published", "switch", "ofa"]
    assert family_names("detr") == ["published", "switch"]


def test_family_choice_and_errors(b2):
    assert paths_of(b2, "dynaseg") == ["", "gate_prune=0.3;decoder_sum=1", "gate_prune=0.5;decoder_sum=1"]
    assert paths_of(b2, "switch,dynaseg")[:3] == ["", "variant=b1", "variant=b0"]  # more MACs first
    with pytest.raises(AccelsimError, match="path family 'pause' does not apply to segformer-b2.*allowed: grid"):
        paths_of(b2, "pause")


def test_rdd_candidates_come_from_the_same_list(b2):
    """rdd's default candidates are the listed paths with a published accuracy (the seven
    B2 configurations, pred_in, DynaSegFormer 30/50 %, and B0/B1)."""
    from accelsim.cli.paths import _candidates

    cands = _candidates(b2, (), None)
    assert set(cands) <= set(paths_of(b2))
    assert set(cands) == set(with_known_accuracy(b2, paths_of(b2)))
    assert len(cands) == 12
    assert {"", "pred_in=736", "variant=b0", "variant=b1", "gate_prune=0.5;decoder_sum=1"} <= set(cands)


@pytest.mark.parametrize("fmt, name", [("text", "p.txt"), ("csv", "p.csv"), ("json", "p.json"), ("yaml", "p.yaml")])
def test_enumerate_formats_round_trip(tmp_path, capsys, fmt, name, b2):
    out = tmp_path / name
    assert main(["paths", "enumerate", "-w", "segformer-b2", "--family", "published,switch", "-o", str(out)]) == 0
    want = paths_of(b2, "published", "switch")
    assert read_path_list(out) == want
    assert main(["paths", "enumerate", "-w", "segformer-b2", "--family", "published,switch", "--format", fmt]) == 0
    assert capsys.readouterr().out == out.read_text()


def test_enumerate_text_writes_the_full_model_readably(capsys):
    assert main(["paths", "enumerate", "-w", "segformer-b0", "--family", "dynaseg"]) == 0
    assert capsys.readouterr().out.splitlines() == [FULL_MODEL, "gate_prune=0.3;decoder_sum=1",
                                                    "gate_prune=0.5;decoder_sum=1"]


def test_full_model_line_is_accepted_as_a_path(capsys):
    """The first line `enumerate` prints is a valid --exec-path (it was 'not key=value')."""
    assert main(["paths", "show", "-w", "segformer-b0", "--exec-path", FULL_MODEL]) == 0
    assert "exec_path    (full model)" in capsys.readouterr().out
    assert canonical_path(" (Full Model) ") == ""


@pytest.mark.parametrize("text, message", [
    ("blocks=9-9-9-9-9\nfuse_in=x\n", "entry 2: path key fuse_in='x'"),
    ("", "no path in the list"),
])
def test_bad_path_list_is_one_line(tmp_path, text, message):
    f = tmp_path / "bad.txt"
    f.write_text(text)
    with pytest.raises(AccelsimError, match=message) as err:
        read_path_list(f)
    assert str(f) in str(err.value) and "\n" not in str(err.value)


def test_bad_path_list_suffix(tmp_path):
    (tmp_path / "p.xlsx").write_text("fuse_in=896\n")
    with pytest.raises(AccelsimError, match=r"format '\.xlsx' unknown; use \.txt"):
        read_path_list(tmp_path / "p.xlsx")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["", "fuse_in=896", "blocks=2-3-5-3;fuse_in=512", "pred_in=736",
                                 "variant=b0", "gate_prune=0.3;decoder_sum=1"]), min_size=1, max_size=8),
       st.sampled_from(["text", "csv", "json", "yaml"]))
def test_any_list_round_trips(tmp_path_factory, paths, fmt):
    """Property: every format reads back the same paths in the same order (repeats once)."""
    entries = [PathEntry(p, "x") for p in dict.fromkeys(paths)]
    suffix = {"text": ".txt", "csv": ".csv", "json": ".json", "yaml": ".yaml"}[fmt]
    f = tmp_path_factory.mktemp("lists") / f"l{suffix}"
    f.write_text(path_list_text(entries, fmt, "segformer-b2", "512x512"))
    assert read_path_list(f) == [e.exec_path for e in entries]


# ------------------------------------------------------------------ sweep: --paths and scopes
def test_sweep_paths_file_and_both_scopes(tmp_path, capsys):
    """One output: 2 paths x 2 scopes = 4 rows keyed by scope. The system scope adds the
    global buffer and DRAM, so each path costs more energy there than at the accelerator
    boundary (a relation, not a pinned number: the cost model's constants may change)."""
    plist = tmp_path / "b0.yaml"
    assert main(["paths", "enumerate", "-w", "segformer-b0", "--family", "dynaseg", "-o", str(plist)]) == 0
    out = tmp_path / "both.csv"
    assert main(["sweep", "-a", "E", "-w", "segformer-b0", "--input", "64x64", "--paths", str(plist),
                 "--scope", "accelerator,system", "-o", str(out), "--workers", "1", "--no-progress"]) == 0
    df = pd.read_csv(out, keep_default_na=False)
    assert len(df) == 6 and df.groupby("scope").size().to_dict() == {"accelerator": 3, "system": 3}
    piv = df.pivot(index="exec_path", columns="scope", values="energy_j")
    assert (piv["system"] > piv["accelerator"]).all()
    assert set(df["exec_path"]) == {"", "gate_prune=0.3;decoder_sum=1", "gate_prune=0.5;decoder_sum=1"}
    capsys.readouterr()
    assert main(["sweep", "-a", "E", "-w", "segformer-b0", "--input", "64x64", "--paths", str(plist),
                 "--scope", "accelerator,system", "-o", str(out), "--workers", "1", "--no-progress"]) == 0
    assert "6 kept from a previous run, 0 computed" in capsys.readouterr().err  # resumes by scope too


def test_spec_paths_field_families_and_scope_list(tmp_path):
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "b0.txt").write_text("(full model)\nfuse_in=128\n")
    spec = tmp_path / "s.yaml"
    spec.write_text("arch: [E]\nscope: [accelerator, system]\n"
                    "workloads:\n - {name: segformer-b0, input: 64x64, paths: lists/b0.txt}\n"
                    " - {name: segformer-b1, input: 64x64, families: [switch], label: b1}\n"
                    "output: r.csv\n")
    assert main(["sweep", str(spec), "--workers", "1", "--no-progress"]) == 0
    df = pd.read_csv(tmp_path / "r.csv", keep_default_na=False)
    got = list(df[["workload", "exec_path", "scope"]].itertuples(index=False, name=None))
    assert got == [("segformer-b0@64x64", "", "accelerator"), ("segformer-b0@64x64", "", "system"),
                   ("segformer-b0@64x64", "fuse_in=128", "accelerator"),
                   ("segformer-b0@64x64", "fuse_in=128", "system"),
                   ("b1", "", "accelerator"), ("b1", "", "system"),
                   ("b1", "variant=b0", "accelerator"), ("b1", "variant=b0", "system")]


@pytest.mark.parametrize("args, message", [
    (["--scope", "accelerator", "--scope", "system"], "given 2 times"),
    (["--scope", "accelerator,accelerator"], "names a scope twice"),
    (["--scope", "board"], "'board' is not one of accelerator, system"),
    (["--family", "pause"], "path family 'pause' does not apply"),
])
def test_sweep_option_errors(tmp_path, capsys, args, message):
    rc = main(["sweep", "-a", "E", "-w", "segformer-b0", "--input", "64x64", *args, "-o", str(tmp_path / "r.csv")])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.csv").exists()


def test_spec_scope_listed_twice(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text("arch: [E]\nscope: [system, system]\nworkloads: [segformer-b0]\n")
    assert main(["sweep", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "s.yaml" in err and "scope" in err and "listed twice" in err
