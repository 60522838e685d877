"""Once-for-All ResNet50D subnets: hand-derived MACs, published range, closest-subnet search."""

import csv

import pytest

from accelsim.errors import WorkloadError
from accelsim.resources import DATA_DIR
from accelsim.workload import load_workload
from accelsim.workload.ofa import closest_subnet, make_divisible, ofa_resnet50


def hand_macs(stem: tuple[int, int], widths, mids, blocks, size: int = 224) -> int:
    """ResNet-D MACs from channel tables worked out by hand from once-for-all's make_divisible.

    Stem: 3x3 s2 (3->m), 3x3 (m->m), 3x3 (m->s) at size/2; stages at size/4 .. size/32;
    block 0 of each stage has the avg-pool + 1x1 downsample conv at the output resolution.
    """
    m, s0 = stem
    h = size // 2
    macs = 9 * h * h * (3 * m + m * m + m * s0)
    in_c, hw_in = s0, (size // 4) ** 2
    for si, (w, mid, n) in enumerate(zip(widths, mids, blocks)):
        hw = (size // 4 // (2 ** si)) ** 2
        for i in range(n):
            c, hw1 = (in_c, hw_in) if i == 0 else (w, hw)
            macs += mid * c * hw1 + 9 * mid * mid * hw + w * mid * hw + (w * c * hw if i == 0 else 0)
        in_c, hw_in = w, hw
    return macs + widths[-1] * 1000


def test_make_divisible_matches_once_for_all():
    # hand evaluation of once-for-all's make_divisible(v, 8): round to 8, never below 90 %
    assert [make_divisible(v) for v in (51.2, 41.6, 20, 204.8, 1638.4, 90, 33.6)] == \
        [48, 40, 24, 208, 1640, 88, 32]


def test_largest_and_smallest_subnet_macs_by_hand():
    big = load_workload("ofa-resnet50-supernet")  # d=2 everywhere, e=0.35, w=1.0 at 224
    # w=1.0: stem 32/64, stages 256..2048; e=0.35 -> middles 88, 176, 360, 720; blocks 4,4,6,4
    assert big.macs == hand_macs((32, 64), (256, 512, 1024, 2048), (88, 176, 360, 720), (4, 4, 6, 4))
    small = ofa_resnet50(depth_list=[0, 0, 0, 0], expand_ratios=0.2, width_mult=0.65)
    # w=0.65: stem 24/40, stages 168, 336, 664, 1328; e=0.2 -> middles 32, 64, 136, 264
    assert small.macs == hand_macs((24, 40), (168, 336, 664, 1328), (32, 64, 136, 264), (2, 2, 4, 2))
    assert (round(big.macs / 1e9, 2), round(small.macs / 1e9, 2)) == (7.49, 1.03)


def published_ofa_budgets() -> list[float]:
    with open(DATA_DIR / "accuracy.csv") as f:
        rows = [r for r in csv.DictReader(line for line in f if not line.startswith("#"))
                if r["family"] == "ofa_resnet50"]
    return [round(float(r["variant"][4:-1]) * 1e9) for r in rows]


def test_published_subnets_are_reachable():
    budgets = published_ofa_budgets()
    assert min(budgets) == 0.6e9 and max(budgets) == 4.1e9
    for budget in budgets:
        # the published subnets were searched over (d, e, w, resolution); our space (per-stage
        # expand, one width) must still reach each MAC figure to within 1 % at some resolution
        best = 0
        for res in (128, 160, 192, 224):
            try:
                opts = closest_subnet(budget, resolution=res)
            except WorkloadError:
                continue
            best = max(best, ofa_resnet50((res, res), **opts).macs)
        assert 0.99 * budget <= best <= budget


def test_closest_subnet_is_exact_and_deterministic():
    opts = closest_subnet(2.4e9)
    assert opts == closest_subnet(2.4e9)
    wl = load_workload("ofa-resnet50", **opts)
    # the closed-form search count equals the built graph's MACs, and it is the best under budget
    assert 2.39e9 < wl.macs <= 2.4e9
    with pytest.raises(WorkloadError, match="below the smallest subnet"):
        closest_subnet(0.5e9, resolution=224)


def test_options_structure_and_names():
    wl = ofa_resnet50((160, 160), depth_list="1,0,2,0", expand_ratios=0.25, width_mult=0.8)
    assert len([l for l in wl.layers if l.name.endswith(".conv1.conv")]) == 3 + 2 + 6 + 2
    assert wl.layer("input_stem.0.conv").stride == 2 and "input_stem.1.add" in wl
    pool = wl.layer("blocks.3.downsample.avg_pool")  # first block of stage 2 (after 3 blocks)
    assert (pool.stride, pool.p) == (2, 20)
    assert "blocks.0.downsample.avg_pool" not in wl and "blocks.0.downsample.conv" in wl
    assert wl.layer("classifier.linear").c == 1640
    # 18 per-supernet-block ratios: each stage uses its first base+depth entries
    per_block = [0.2] * 4 + [0.35] * 4 + [0.25] * 6 + [0.2] * 4
    wl2 = ofa_resnet50(depth_list=[0, 0, 0, 0], expand_ratios=per_block)
    assert wl2.layer("blocks.2.conv1.conv").k == 176  # stage 2 block 0: 512 * 0.35 -> 176


@pytest.mark.parametrize("opts,match", [
    ({"depth_list": [3, 0, 0, 0]}, "depth_list.*0, 1, 2"),
    ({"depth_list": [1, 1]}, "depth_list.*4 values"),
    ({"width_mult": 0.5}, "width_mult.*0.65, 0.8, 1.0"),
    ({"expand_ratios": 0.3}, "expand_ratios.*0.2, 0.25, 0.35"),
    ({"expand_ratios": [0.2] * 5}, "expand_ratios has 5 values"),
    ({"input_size": (256, 256)}, "between 128 and 224"),
])
def test_bad_options(opts, match):
    with pytest.raises(WorkloadError, match=match):
        load_workload("ofa-resnet50", **opts)
