"""The jitted mapper agrees with the plain-Python reference enumeration (independent
brute-force evaluation: per-PE shares, explicit tile loop nests, residency-tracked
fetches, over the whole space without the mapper's reductions: any split, any tile size)
on the optimum and its cost, pruned (branch and bound) or not, for 200 random small layers
and architectures (seeded), with PE counts that 2 and 4 divide and that they do not."""

from __future__ import annotations

import random

import numpy as np
import pytest

from accelsim.arch.config import arch_from_dict, load_arch
from accelsim.cost import equations as eq
from accelsim.cost.mapper import search
from accelsim.cost.model import Packed, problem_vector
from accelsim.cost.reference import reference_search
from accelsim.errors import ConfigError
from accelsim.workload import Layer, Op

N_CASES = 200


def random_case(rng: random.Random):
    """A small layer, a small architecture, DRAM flags and an objective index."""
    while True:
        d = dict(load_arch("E").model_dump(), name="rand", pe_array_area_mm2=None,
                 num_pe=rng.choice([1, 2, 3, 4, 6]), k0=rng.choice([2, 4, 8]), c0=rng.choice([2, 4, 8]),
                 accum_depth=rng.choice([1, 2, 4]), weight_buffer_kb=rng.choice([0.25, 0.5, 1]),
                 input_buffer_kb=rng.choice([0.125, 0.25, 1]),
                 accum_buffer_kb=rng.choice([0.0625, 0.125, 1]),
                 global_buffer_kb=rng.choice([0.5, 2, 64]), voltage_v=rng.choice([0.6, 0.67, 0.8]))
        try:
            arch = arch_from_dict(d)
        except ConfigError:  # a buffer too small for one tile: draw again
            continue
        break
    op = rng.choice([Op.CONV2D, Op.LINEAR, Op.DWCONV2D, Op.MATMUL])
    r = rng.choice([1, 3]) if op in (Op.CONV2D, Op.DWCONV2D) else 1
    stride = rng.choice([1, 2]) if r > 1 else 1
    c, k = rng.randint(1, 12), rng.randint(1, 12)
    groups = 1
    if op is Op.DWCONV2D:
        k = groups = c
    elif op is Op.CONV2D and c % 2 == 0 and k % 2 == 0 and rng.random() < 0.3:
        groups = 2
    layer = Layer("x", op, k=k, c=c, p=rng.randint(1, 5), q=rng.randint(1, 5), r=r, s=r,
                  stride=stride, padding=r // 2, groups=groups, batch=rng.choice([1, 1, 2]))
    return layer, arch, rng.random() < 0.5, rng.random() < 0.5, rng.choice([0, 1, 2, 3])


@pytest.mark.parametrize("chunk", range(4))
def test_mapper_matches_reference(chunk):
    rng = random.Random(20240 + chunk)
    for i in range(N_CASES // 4):
        layer, arch, in_dram, out_dram, obj = random_case(rng)
        scope = ("system", "accelerator")[i % 2]
        tol = (0.0, 0.01, 0.1)[i % 3]  # 0: lexicographic; else the tolerance rule's second pass
        packed = Packed.of(arch, scope)
        prob = problem_vector(layer, in_dram, out_dram)
        out = np.zeros(eq.N_OUT)
        full, count = search(prob, packed.arch_vec, packed.energy_vec, obj, 0, out, False, tol)
        pruned, pruned_count = search(prob, packed.arch_vec, packed.energy_vec, obj, 0, np.zeros(eq.N_OUT),
                                      True, tol)
        ref_map, ref, ref_count = reference_search(prob, packed.arch_vec, packed.energy_vec, obj, tol)
        ctx = f"{layer} on {arch.params()} obj={obj} scope={scope} tolerance={tol}"
        # the mapper searches a reduced space (tile sizes that can matter, one split per share);
        # the tolerance rule scans it twice
        assert pruned_count <= count <= ref_count * (2 if tol > 0 and ref_map is not None else 1), ctx
        if ref_map is None:
            assert full[0] == -1, ctx
            continue
        assert tuple(int(v) for v in full) == ref_map, ctx
        assert tuple(int(v) for v in pruned) == ref_map, ctx  # branch and bound keeps the optimum
        # different arithmetic (closed forms vs explicit sums): equal to rounding
        assert out[eq.O_CYCLES] == pytest.approx(ref.cycles, rel=1e-9), ctx
        assert out[eq.O_ENERGY] == pytest.approx(ref.energy, rel=1e-9), ctx
