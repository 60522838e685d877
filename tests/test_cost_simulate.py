"""simulate() on SegFormer-B2: result fields, per-layer table, memoisation, JSON."""

from __future__ import annotations

import json
from collections.abc import MutableMapping

import pytest

import accelsim
from accelsim.cost import COMPONENTS, SimResult, simulate
from accelsim.cost.mapper import MAPPING_FIELDS


@pytest.fixture(scope="module")
def b2():
    return accelsim.load_workload("segformer-b2")


def test_segformer_b2_on_e(b2):
    memo = {}
    res = simulate(b2, "E", memo=memo)
    assert isinstance(res, SimResult)
    assert res.macs == b2.macs and len(res.layers) == len(b2.layers)
    want = (["name", "op", "macs", "cycles", "latency_s", "energy_j"]
            + [f"energy_{c}_j" for c in COMPONENTS] + ["utilization", "bound"]
            + list(MAPPING_FIELDS) + ["candidates"])
    assert all(c in res.layers.columns for c in want)
    # totals are the sums of the rows (cycles add: layers run one after another)
    assert res.cycles == pytest.approx(res.layers["cycles"].sum(), rel=1e-12)
    assert res.energy_j == pytest.approx(res.layers["energy_j"].sum(), rel=1e-9)
    assert res.latency_s == pytest.approx(res.cycles / 1.25e9, rel=1e-12)
    assert 0 < res.utilization <= 1
    assert set(res.layers["bound"]) <= {"compute", "input_buffer", "weight_buffer",
                                        "global_buffer", "dram", "ppu"}
    # linear_fuse is a large, well-shaped 1x1 conv: compute-bound near full utilisation
    fuse = res.layers.set_index("name").loc["decode_head.linear_fuse"]
    assert fuse["utilization"] > 0.95
    s = res.summary()
    assert s["flops"] == 2 * res.macs
    assert s["energy_per_op_j"] == pytest.approx(res.energy_j / s["flops"], rel=1e-12)
    assert json.loads(res.to_json())["summary"]["arch"] == "E"
    # memo: a second call maps nothing new and gives the same numbers
    n = len(memo)
    again = simulate(b2, "E", memo=memo)
    assert len(memo) == n and again.candidates_evaluated == 0
    assert again.cycles == res.cycles and again.energy_j == res.energy_j
    # identical shapes are mapped once: far fewer memo entries than layers
    assert n < len(b2.layers) // 2


def _shapes(memo: dict) -> int:
    """Memo entries of plain per-shape searches (the latency objective also stores the searches
    of layers re-mapped behind a PPU backlog, keyed with it: docs/cost_model.md, Objectives)."""
    return sum(1 for key in memo if key[1][-1][0] != "ppu_backlog")


def test_memo_separates_arch_and_objective(b2):
    memo = {}
    e = simulate(b2, "E", memo=memo)
    n = _shapes(memo)
    assert len(memo) - n >= 1  # linear_pred, searched again behind the final resize
    simulate(b2, "E", objective="energy", memo=memo)
    assert _shapes(memo) == 2 * n
    g = simulate(b2, "G", memo=memo)
    assert _shapes(memo) == 3 * n and g.area_mm2 != e.area_mm2


class LazyMemo(MutableMapping):
    """A memo that loads stored entries on its first lookup, like the sweep's on-disk memo."""

    def __init__(self, stored: dict) -> None:
        self._stored, self._data, self.loaded = dict(stored), {}, False

    def _load(self) -> None:
        if not self.loaded:
            self.loaded = True
            self._data.update(self._stored)

    def __getitem__(self, key):
        self._load()
        return self._data[key]

    def __setitem__(self, key, value) -> None:
        self._data[key] = value

    def __delitem__(self, key) -> None:
        del self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def test_candidates_counted_only_for_fresh_mappings(b2):
    """A memo that grows while loading stored entries must not make hits look like fresh mappings."""
    stored: dict = {}
    simulate(accelsim.load_workload("segformer-b0"), "E", memo=stored)
    # reference: the same entries seeded eagerly into a plain dict (its length only grows on a miss)
    eager = simulate(b2, "E", memo=dict(stored))
    lazy_memo = LazyMemo(stored)
    lazy = simulate(b2, "E", memo=lazy_memo)
    assert lazy_memo.loaded
    # exact: both count the candidates of the b2 shapes b0 did not cover, and nothing else
    assert 0 < lazy.candidates_evaluated == eager.candidates_evaluated
    cold = simulate(b2, "E").candidates_evaluated
    assert eager.candidates_evaluated < cold  # b0 and b2 share shapes, so the seeds saved work
    # everything stored: every layer is a hit and no candidate was searched
    full: dict = {}
    simulate(b2, "E", memo=full)
    assert simulate(b2, "E", memo=LazyMemo(full)).candidates_evaluated == 0
