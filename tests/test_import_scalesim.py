"""SCALE-Sim topologies as SCALE-Sim's own files write them: GEMMs written as convs, over-limit
output grids, v2/v3 headers by name, v3 layout files, sparsity and batch columns, hostile sizes.

MAC counts are checked against SCALE-Sim's formula, ofmap_h * ofmap_w * filt_h * filt_w *
channels * num_filt with ofmap = ceil((ifmap - filt + stride) / stride) (hand calculation,
exact integers)."""

from __future__ import annotations

import os
import time

import pytest

from accelsim.cli.main import main
from accelsim.errors import AccelsimError
from accelsim.workload import Op
from accelsim.workload.importers import IgnoredFieldsWarning
from accelsim.workload.importers.scalesim import MAX_ROWS, fold, from_scalesim

V2 = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"


def _csv(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _scalesim_macs(h, w, fh, fw, ch, nf, st=1):
    return -(-(h - fh + st) // st) * -(-(w - fw + st) // st) * fh * fw * ch * nf


@pytest.mark.parametrize("row, m, k, n", [
    ("wgrad, 64, 12544, 1, 12544, 1, 256, 1,", 64, 12544, 256),     # filter width 12544 > 4096
    ("gemm8k, 512, 8192, 1, 8192, 1, 1024, 1,", 512, 8192, 1024),
    ("qkt, 1024, 10000, 1, 10000, 1, 1024, 1,", 1024, 10000, 1024),  # GPT-2 QK^T row
    ("transposed, 10000, 64, 10000, 1, 1, 32, 1,", 64, 10000, 32),  # filter height = IFMAP height
    ("chan, 49, 4608, 1, 4608, 2, 64, 1,", 49, 9216, 64),             # channels multiply K
])
def test_gemm_written_as_conv_is_a_linear(tmp_path, row, m, k, n):
    (layer,) = from_scalesim(_csv(tmp_path, V2 + row + "\n")).layers
    cells = [int(c) for c in row.split(",")[1:8]]
    assert layer.op is Op.LINEAR and (layer.p * layer.q, layer.c, layer.k) == (m, k, n)
    assert layer.macs == _scalesim_macs(*cells) == m * k * n


def test_over_limit_output_is_folded_with_the_same_macs(tmp_path, capsys):
    # UNet conv written with one huge IFMAP dimension: 2046 * 2046 = 4,186,116 output rows
    path = _csv(tmp_path, V2 + "unet, 4186118, 3, 3, 3, 64, 64, 1,\n")
    (layer,) = from_scalesim(path).layers
    assert (layer.p, layer.q, layer.r, layer.s) == (2046, 2046, 3, 3)
    assert layer.macs == _scalesim_macs(4186118, 3, 3, 3, 64, 64)
    assert main(["workload", "import", str(path), "-o", str(tmp_path / "o.yaml")]) == 0
    assert "note: unet: output 4186116x1 folded into 2046x2046 (same MACs)" in capsys.readouterr().err
    # a prime number of rows over the limit cannot be folded: one line
    prime = _csv(tmp_path, V2 + "odd, 1048583, 3, 3, 3, 8, 8, 1,\n", "p.csv")  # 1048581 is 3 x 349527
    with pytest.raises(AccelsimError, match="cannot be folded"):
        from_scalesim(_csv(tmp_path, V2 + "odd, 2000005, 3, 3, 3, 8, 8, 1,\n", "q.csv"))  # 2000003 is prime
    assert from_scalesim(prime).macs == _scalesim_macs(1048583, 3, 3, 3, 8, 8)
    assert fold(2000003, 1) is None and fold(4186116, 1) == (2046, 2046) and fold(7, 9) == (7, 9)


HEADERS = [
    "Layer name,IFMAP height,IFMAP width,Filter height,Filter width,Channels,Num filter,Stride height,Stride width,",
    " Layer Name , IFMAP Height , IFMAP Width , Filter Height , Filter Width , Channels , Num Filters , Stride , ",
    "layer_name,ifmap_h,ifmap_w,filter_h,filter_w,num_ch,num_filt,stride_h,stride_w,batch_size,sparsity,",
]


@pytest.mark.parametrize("header", HEADERS)
def test_v2_v3_headers_by_name(tmp_path, header):
    cells = "c1,56,56,3,3,64,128,1,1,1,1:1," if header.count(",") > 10 else \
        "c1,56,56,3,3,64,128,1,1," if "Stride width" in header else "c1,56,56,3,3,64,128,1,"
    (layer,) = from_scalesim(_csv(tmp_path, header + "\n" + cells + "\n")).layers
    assert (layer.k, layer.c, layer.p, layer.q, layer.r) == (128, 64, 54, 54, 3)


def test_columns_in_another_order_are_read_by_name(tmp_path):
    text = "Num Filter, Layer name, Strides, Channels, IFMAP Width, IFMAP Height, Filter Width, Filter Height\n" \
           "128, c1, 2, 64, 30, 58, 3, 5\n"
    (layer,) = from_scalesim(_csv(tmp_path, text)).layers
    assert (layer.k, layer.c, layer.r, layer.s, layer.p, layer.q, layer.stride) == (128, 64, 5, 3, 28, 15, 2)


def test_v3_layout_file_is_refused_in_one_line(tmp_path, capsys):
    header = ("Layer name,IFMAP Height Intraline Factor,IFMAP Width Intraline Factor,Filter Height Intraline "
              "Factor,Filter Width Intraline Factor,Channel Intraline Factor,Num Filter Intraline Factor,"
              "IFMAP Height Intraline Order,IFMAP Width Intraline Order,Channel Intraline Order,\n")
    path = _csv(tmp_path, header + "Conv1,2,2,1,1,16,1,0,1,2,\n" * 5)
    assert main(["workload", "import", str(path), "-o", str(tmp_path / "o.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {path}: this is a SCALE-Sim v3 layout file (header 'Layer name,IFMAP Height Intraline "
                   "Factor,IFMAP Width Intraline Factor', ...: memory layouts of the operands, not layers); "
                   "import the topology CSV it goes with")


def test_sparsity_and_batch_columns_warn_once(tmp_path, capsys):
    text = "Layer Name, M, N, K, Batch Size, Sparsity,\nGEMM_1, 3, 5, 16, 4, 3:4,\nGEMM_2, 1, 5, 16, 1, 1:4,\n"
    path = _csv(tmp_path, text)
    with pytest.warns(IgnoredFieldsWarning, match=r"ignored 'Batch' \(1, 4\).*'Sparsity' \(N:M 1:4, 3:4\)"):
        wl = from_scalesim(path)
    assert wl.macs == 3 * 5 * 16 + 5 * 16  # dense, one image
    assert main(["workload", "import", str(path), "-o", str(tmp_path / "o.yaml")]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0] == (f"warning: {path}: ignored 'Batch' (1, 4): one image per layer is imported; "
                        "'Sparsity' (N:M 1:4, 3:4): the layers are imported dense")
    with pytest.warns(IgnoredFieldsWarning):
        from_scalesim(_csv(tmp_path, "Layer, M, N, K, Sparsity\nfc, 2, 2, 2, 1:2\n", "s.csv"))


def test_depthwise_rows_as_scalesim_splits_them(tmp_path):
    # SCALE-Sim v2/v3 split a DP row into `Channels` single-channel convs of `Num Filter` filters
    (dw,) = from_scalesim(_csv(tmp_path, V2 + "DP_conv2, 114, 114, 3, 3, 32, 1, 1,\n")).layers
    assert (dw.op, dw.groups, dw.macs) == (Op.DWCONV2D, 32, 32 * _scalesim_macs(114, 114, 3, 3, 1, 1))


def _one_line(capsys, path):
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {path}") and len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_hostile_topologies_are_bounded(tmp_path, capsys):
    out = str(tmp_path / "o.yaml")
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    t0 = time.perf_counter()
    assert main(["workload", "import", str(fifo), "-o", out]) == 2
    assert "is a FIFO" in _one_line(capsys, fifo)
    many = _csv(tmp_path, V2 + "c, 8, 8, 3, 3, 4, 4, 1,\n" * (MAX_ROWS + 1), "many.csv")
    assert main(["workload", "import", str(many), "-o", out]) == 2
    assert f"more than {MAX_ROWS:,} layer rows; at most {MAX_ROWS:,} are read" in _one_line(capsys, many)
    wide = _csv(tmp_path, V2 + "c" * 200_000 + ", 8, 8, 3, 3, 4, 4, 1,\n", "wide.csv")
    assert main(["workload", "import", str(wide), "-o", out]) == 2
    assert "line 2: not CSV (field larger than field limit" in _one_line(capsys, wide)
    cell = _csv(tmp_path, V2 + "c" * 5000 + ", 8, 8, 3, 3, 4, 4, 1,\n", "cell.csv")
    assert main(["workload", "import", str(cell), "-o", out]) == 2
    assert "a cell of over 4,096 characters" in _one_line(capsys, cell)
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:  # sparse: 2 GB without using the disk
        fh.write(V2.encode())
        fh.truncate(2 * 1024**3)
    assert main(["workload", "import", str(big), "-o", out]) == 2
    assert "bytes is over the limit of 67,108,864 bytes for a SCALE-Sim topology" in _one_line(capsys, big)
    assert time.perf_counter() - t0 < 60  # the 100,001-row file is parsed once, then refused


from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402


@st.composite
def conv_rows(draw):
    h, w = draw(st.integers(1, 300)), draw(st.integers(1, 300))
    fh, fw = draw(st.integers(1, min(h, 11))), draw(st.integers(1, min(w, 11)))
    if draw(st.booleans()):  # SCALE-Sim's GEMM-as-conv form, either orientation
        fh, fw = (1, w) if draw(st.booleans()) else (h, 1)
    return h, w, fh, fw, draw(st.integers(1, 64)), draw(st.integers(1, 64)), draw(st.integers(1, 4))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=conv_rows(), name=st.sampled_from(["conv", "DP_conv"]))
def test_any_conv_row_has_scalesims_macs(tmp_path_factory, row, name):
    path = tmp_path_factory.mktemp("ss") / "t.csv"
    path.write_text(V2 + f"{name},{','.join(map(str, row))},\n")
    (layer,) = from_scalesim(path).layers
    h, w, fh, fw, ch, nf, st_ = row
    # SCALE-Sim splits a DP row into `ch` single-channel convs of `nf` filters
    expected = ch * _scalesim_macs(h, w, fh, fw, 1, nf, st_) if name.startswith("DP") else \
        _scalesim_macs(h, w, fh, fw, ch, nf, st_)
    assert layer.macs == expected
