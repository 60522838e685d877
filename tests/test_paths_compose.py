"""Composition of execution-path transforms: commuting pairs give the same workload in
either order; conflicting pairs are refused in either order (SPEC.md section 8)."""

import pytest

from accelsim.errors import WorkloadError
from accelsim.paths import apply_path, canonical_path, parse_path
from accelsim.workload import load_workload


@pytest.fixture(scope="module")
def b2():
    return load_workload("segformer-b2")


@pytest.mark.parametrize("p1, p2", [
    ("blocks=2-3-5-3", "fuse_in=896"),
    ("fuse_in=1920", "pred_in=736"),
    ("gate_prune=0.3", "blocks=2-4-6-3"),
    ("gate_prune=0.5", "decoder_sum=1"),
    ("c1_in=32", "decoder_sum=1"),
])
def test_commuting_pairs(b2, p1, p2):
    a = apply_path(apply_path(b2, p1), p2)
    b = apply_path(apply_path(b2, p2), p1)
    assert a == b  # same layers, same order, same canonical exec_path
    assert a == apply_path(b2, f"{p2};{p1}")
    assert a.exec_path == canonical_path(f"{p1};{p2}")


@pytest.mark.parametrize("p1, p2, message", [
    ("fuse_in=1920", "decoder_sum=1", "cannot be combined"),
    ("pred_in=736", "decoder_sum=1", "cannot be combined"),
    ("fuse_in=1920", "fuse_in=1664", "already applied"),
])
def test_conflicts_in_either_order(b2, p1, p2, message):
    with pytest.raises(WorkloadError, match=message):
        apply_path(apply_path(b2, p1), p2)
    with pytest.raises(WorkloadError, match=message):
        apply_path(apply_path(b2, p2), p1)


def test_token_methods_conflict():
    vit = load_workload("segmenter-vit-s16-mask")
    with pytest.raises(WorkloadError, match="cannot be combined"):
        apply_path(apply_path(vit, "pause=3:0.2"), "cluster=16x16")
    with pytest.raises(WorkloadError, match="cannot be combined"):
        apply_path(vit, "blocks=10;pause=3:0.2")


def test_canonical_syntax():
    assert canonical_path("fuse_in=896;blocks=2-3-5-3") == "blocks=2-3-5-3;fuse_in=896"
    assert canonical_path("cts_reduction=0.30") == "cts_reduction=0.3"
    assert canonical_path("pause=5:0.2,3:0.20") == "pause=3:0.2,5:0.2"
    assert parse_path("cluster=28x28;alpha=10;beta=14") == {"cluster": (28, 28), "alpha": 10, "beta": 14}
    assert parse_path("") == {}


@pytest.mark.parametrize("text, message", [
    ("foo=1", "unknown key 'foo'; allowed: variant, blocks"),
    ("gate_prune=1.0", r"in \[0, 1\)"),
    ("cts_reduction=-0.1", r"in \[0, 1\)"),
    ("pause=3:0.2,3:0.4", "layer 3 given twice"),
    ("pause=3", "LAYER:FRACTION"),
    ("fuse_in", "not key=value"),
    ("fuse_in=1;fuse_in=2", "given twice"),
    ("cluster=28", "HxW"),
])
def test_syntax_errors(text, message):
    with pytest.raises(WorkloadError, match=message):
        parse_path(text)


def test_load_workload_exec_path():
    import accelsim

    wl = accelsim.load_workload("segformer-b2", exec_path="fuse_in=896;blocks=2-3-5-3")
    assert wl.exec_path == "blocks=2-3-5-3;fuse_in=896"
    assert "decode_head.linear_fuse" in wl  # names kept
