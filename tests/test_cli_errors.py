"""User errors across the CLI: one line on stderr, exit status 2, never a traceback."""

from __future__ import annotations

import pytest

from accelsim.cli.main import main


@pytest.fixture
def files(tmp_path):
    gpu_like = tmp_path / "measure.csv"  # a '#'-commented file that is not a sweep result
    gpu_like.write_text("# meta = 1\n# other = 2\nname,op,median_s\nx,conv2d,0.1\n" + "a,b\n" * 3)
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really parquet")
    (tmp_path / "ragged.csv").write_text("a,b\n1,2\n3,4,5,6,7\n")
    return tmp_path


@pytest.mark.parametrize("args, fragment", [
    (["simulate", "--input", "50x"], "must look like 512x512"),
    (["simulate", "--input", "500x500"], "divisible by 32"),
    (["simulate", "--exec-path", "bogus=1"], "unknown key 'bogus'"),
    (["simulate", "--exec-path", "fuse_in=99999"], "allowed 1..3072"),
    (["simulate", "--classes", "0"], "--classes"),
    (["simulate", "-w", "nofile.yaml"], "workload file not found"),
    (["sweep", "--arch", "A..Z", "-w", "segformer-b2", "-o", "{tmp}/x.csv"], "arch range 'A..Z'"),
    (["rdd", "-w", "segformer-b2", "--arch", "E", "--budget-latency", "3parsecs"], "budget '3parsecs'"),
    (["pareto", "{tmp}/missing.csv", "--min", "a", "--max", "b"], "results file not found"),
    (["pareto", "{tmp}/bad.parquet", "--min", "a", "--max", "b"], "not a sweep result file"),
    (["plot", "energy-throughput", "{tmp}/ragged.csv"], "not a sweep result file"),
    (["plot", "energy-throughput", "{tmp}/measure.csv"], "not a sweep result file"),
    (["workload", "import", "{tmp}/nofile.onnx", "-o", "{tmp}/x.yaml"], "model file not found"),
])
def test_user_error_is_one_line_exit_2(files, capsys, args, fragment):
    argv = [a.replace("{tmp}", str(files)) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and fragment in err, err
    assert "Traceback" not in err and len(err.splitlines()) == 1
