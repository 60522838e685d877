"""No code runs from input files, no result is lost or corrupted, bad input is refused early.

- code-execution routes: a ``.pt2`` whose pickles would write a marker file, and a cache
  folder holding such pickles; the marker never appears;
- exclusive outputs: a second sweep on the same output (or per-layer file) fails at once;
- pool workers exit within seconds of a SIGKILL of the sweep's main process;
- the disk cache is keyed by content: editing a custom tech file changes the results;
- the readers' limits (YAML size, depth, aliases, numbers, duplicate keys; constraints).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from accelsim.cli.main import main
from accelsim.errors import ConfigError
from accelsim.safeio import (YAML_MAX_ALIAS_VALUES, YAML_MAX_DEPTH, exclusive, one_line, parse_yaml,
                             short)
from accelsim.sweep import run_sweep

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from test_sweep_engine import SPEC, fake_simulate  # noqa: E402


class _Marker:
    """Unpickling this object creates ``path`` (opens it for writing): a harmless stand-in
    for code an attacker would run."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def marker_pickle(path: Path) -> bytes:
    payload = pickle.dumps(_Marker(path), protocol=2)
    # the payload is live: unpickling it writes the marker (checked, then removed)
    pickle.loads(payload).close()
    assert path.exists()
    path.unlink()
    return payload


# ------------------------------------------------------------------ .pt2 archives
torch = pytest.importorskip("torch", reason="torch extra not installed: no .pt2 import")


from test_import_torch import ConvNet  # noqa: E402

#: hand count in test_import_torch.test_conv_net_macs_kinds_and_edges
CONVNET_MACS = 27648 + 9216 + 8192 + 320


def tiny_archive(path: Path, change=None) -> Path:
    """A ``torch.export.save`` archive of ``ConvNet``; ``change(entries, root)`` edits it."""
    buf = io.BytesIO()
    torch.export.save(torch.export.export(ConvNet().eval(), (torch.randn(1, 3, 16, 16),)), buf)
    with zipfile.ZipFile(buf) as z:
        entries = {i.filename: z.read(i) for i in z.infolist()}
    root = next(iter(entries)).split("/")[0]
    if change is not None:
        change(entries, root)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for k, v in entries.items():
            z.writestr(k, v)
    return path


def test_pt2_pickled_sample_inputs_and_guard_code_never_run(tmp_path, capsys):
    """torch.export.load would unpickle the sample inputs (weights_only=False on retry) and
    exec the guard code; the importer reads neither and still imports the model."""
    marker = tmp_path / "marker"
    payload = marker_pickle(marker)

    def evil(entries, root):
        entries[f"{root}/data/sample_inputs/model.pt"] = payload
        doc = json.loads(entries[f"{root}/models/model.json"])
        doc["guards_code"] = [f"open({str(marker)!r}, 'w')"]
        entries[f"{root}/models/model.json"] = json.dumps(doc).encode()

    pt2 = tiny_archive(tmp_path / "evil.pt2", evil)
    out = tmp_path / "evil.yaml"
    assert main(["workload", "import", str(pt2), "-o", str(out)]) == 0
    assert not marker.exists()
    rc, text = main(["workload", "show", str(out), "--json"]), capsys.readouterr().out
    assert rc == 0 and json.loads(text)["totals"]["macs"] == CONVNET_MACS


@pytest.mark.parametrize("route", ["weights", "constants", "legacy_weights"])
def test_pt2_pickled_payloads_are_refused(tmp_path, capsys, route):
    marker = tmp_path / "marker"
    payload = marker_pickle(marker)

    def evil(entries, root):
        if route == "legacy_weights":
            entries[f"{root}/data/weights/model.pt"] = payload
            return
        key = f"{root}/data/{route}/model_{route}_config.json"
        doc = json.loads(entries[key])
        if route == "weights":
            first = next(iter(doc["config"].values()))
            first["use_pickle"] = True
            entries[f"{root}/data/weights/{first['path_name']}"] = payload
        else:  # an opaque object constant: torch.export.load calls pickle.loads on it
            doc["config"]["evil"] = {"path_name": "opaque_obj_0", "use_pickle": True}
            entries[f"{root}/data/constants/opaque_obj_0"] = payload
        entries[key] = json.dumps(doc).encode()

    pt2 = tiny_archive(tmp_path / "evil.pt2", evil)
    assert main(["workload", "import", str(pt2), "-o", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {pt2}: ") and "pickle" in err and len(err.splitlines()) == 1
    assert not marker.exists()


def test_transformers_archive_imports_without_transformers(tmp_path):
    """An archive of a transformers model names its output class (ImageClassifierOutput) in
    its pytree spec; torch.export.load fails unless transformers registered it first. The
    safe reader does not need the spec: a fresh process imports it, and transformers is
    never imported. MACs equal the eager import of the same model (same recorder)."""
    tr = pytest.importorskip("transformers")
    from accelsim.workload.importers import from_torch

    cfg = tr.ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                       image_size=32, patch_size=8, num_labels=5)
    model = tr.ViTForImageClassification(cfg).eval()
    x = torch.randn(1, 3, 32, 32)
    pt2 = tmp_path / "vit.pt2"
    torch.export.save(torch.export.export(model, (x,)), pt2)
    assert b"ImageClassifierOutput" in pt2.read_bytes()
    code = textwrap.dedent(f"""
        import json, sys
        from accelsim.workload.importers import import_model_file
        wl = import_model_file({str(pt2)!r})
        print(json.dumps({{"macs": wl.macs, "params": wl.params,
                           "transformers": any(m.startswith("transformers") for m in sys.modules)}}))
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    eager = from_torch(model, x)
    # hand count: patch conv 32x3x8x8 x 16 patches = 98,304; per layer Q,K,V,O 4 x 17 x 32 x 32,
    # QK^T and AV 2 x 2 heads x 17 x 17 x 16, MLP 2 x 17 x 32 x 64; classifier 32 x 5
    hand = 98_304 + 4 * 17 * 32 * 32 + 2 * 2 * 17 * 17 * 16 + 2 * 17 * 32 * 64 + 32 * 5
    assert got["macs"] == eager.macs == hand
    assert got["params"] == eager.params == sum(p.numel() for p in model.parameters())
    assert got["transformers"] is False


# ------------------------------------------------------------------ the sweep's disk cache
def test_cache_never_unpickles_and_skips_foreign_files(tmp_path):
    import sqlite3

    from accelsim.sweep.cache import DB_NAME

    cache = tmp_path / "cache"
    first = run_sweep(SPEC, workers=1, cache=cache, simulate=fake_simulate)
    marker = tmp_path / "marker"
    payload = marker_pickle(marker)
    (db_path,) = list(cache.glob(f"*/{DB_NAME}"))
    # files of older layouts beside the store are never read: an old pickle, a pickle named .json
    (db_path.parent / ("0" * 32 + ".pkl")).write_bytes(payload)
    (db_path.parent / ("f" * 32 + ".json")).write_bytes(payload)
    db = sqlite3.connect(db_path)
    groups = [g for (g,) in db.execute("SELECT DISTINCT grp FROM entries")]
    assert groups
    for g in groups:  # a pickle stored as an entry of every group the sweep reads
        db.execute("INSERT INTO entries VALUES (?, ?, ?)", (g, '["planted"]', payload))
        db.execute("INSERT INTO entries VALUES (?, ?, ?)", (g, '["zipped"]', __import__("zlib").compress(payload)))
    db.commit()
    db.close()
    with pytest.warns(UserWarning, match=rf"cache: {2 * len(groups)} entries failed validation"):
        again = run_sweep(SPEC, workers=1, cache=cache, simulate=fake_simulate)
    assert not marker.exists()
    assert again.attrs["sweep"]["memo_misses"] == 0  # the genuine entries are still used
    assert again.attrs["sweep"]["cache_bad"] == 2 * len(groups)
    pd.testing.assert_frame_equal(first, again)


def test_cache_key_holds_the_tech_file_content(tmp_path):
    """Editing a custom tech file changes the costs of a cached re-run (the key holds a
    digest of the tech values, not the file name); an unchanged file is all hits."""
    from accelsim.arch.config import _load_arch_path, _load_tech_path, load_arch

    tech = tmp_path / "mytech.yaml"
    tech.write_text((ROOT / "arch_configs" / "tech" / "5nm.yaml").read_text())
    arch = tmp_path / "myarch.yaml"
    arch.write_text((ROOT / "arch_configs" / "E.yaml").read_text().replace("tech/5nm.yaml", str(tech)))
    (tmp_path / "tiny.yaml").write_text(
        "name: tiny\nlayers:\n- {name: fc, op: linear, k: 64, c: 64, p: 16, inputs: [input]}\n")
    spec = {"arch": {"configs": [str(arch)]}, "workloads": [str(tmp_path / "tiny.yaml")]}

    def run(cache: Path) -> pd.DataFrame:
        _load_arch_path.cache_clear()  # a new run reads the files again (as a new process would)
        _load_tech_path.cache_clear()
        return run_sweep(spec, workers=1, cache=cache)

    before = run(tmp_path / "cache")
    assert run(tmp_path / "cache").attrs["sweep"]["memo_misses"] == 0
    doc = yaml.safe_load(tech.read_text())
    doc["energy"]["mac_pj"]["value"] *= 2
    doc["energy"]["mac_pj"]["range"] = [2 * x for x in doc["energy"]["mac_pj"].get("range", [0.0, 1.0])]
    tech.write_text(yaml.safe_dump(doc))
    after = run(tmp_path / "cache")
    fresh = run(tmp_path / "empty")
    # the MAC energy doubled: the cached re-run gives the fresh result, not the stale one.
    # The datapath is charged per MAC slot of a busy PE per cycle (docs/cost_model.md), so the
    # increase is 0.060 pJ x busy PE-cycles x 32 x 32 slots of the chosen mapping; exact to rounding
    from accelsim.cost import map_layer
    from accelsim.workload import Layer, Op

    fc = Layer("fc", Op.LINEAR, k=64, c=64, p=16, inputs=("input",))
    slots = map_layer(fc, load_arch(arch), input_from_dram=True, output_to_dram=True).counts["pe_cycles"] * 32 * 32
    assert slots >= 64 * 64 * 16  # at least one slot per MAC
    assert after.attrs["sweep"]["memo_misses"] > 0
    assert after["energy_j"][0] == fresh["energy_j"][0]
    assert after["energy_j"][0] - before["energy_j"][0] == pytest.approx(slots * 0.060e-12, rel=1e-9)


# ------------------------------------------------------------------ exclusive outputs
SLOW_SWEEP = textwrap.dedent("""
    import sys
    sys.path.insert(0, {here!r})
    from test_sweep_engine import SPEC, fake_simulate
    from accelsim.sweep import run_sweep
    run_sweep(SPEC, output=sys.argv[1], layers=sys.argv[2] if len(sys.argv) > 3 else None,
              workers=int(sys.argv[-1]), chunk_size=1, simulate=fake_simulate)
""")


def start_slow_sweep(tmp_path: Path, out: Path, workers: int, layers: Path | None = None,
                     **popen) -> subprocess.Popen:
    script = tmp_path / "slow.py"
    script.write_text(SLOW_SWEEP.format(here=str(HERE)))
    env = {**os.environ, "ACCELSIM_FAKE_DELAY": "0.3", "PYTHONPATH": str(ROOT)}
    args = [sys.executable, str(script), str(out)] + ([str(layers), "-"] if layers else []) + [str(workers)]
    return subprocess.Popen(args, env=env, **popen)


def wait_for(cond, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def test_second_writer_fails_at_once(tmp_path, capsys):
    out, layers = tmp_path / "r.csv", tmp_path / "layers.csv"
    proc = start_slow_sweep(tmp_path, out, 1, layers)
    try:
        wait_for(lambda: out.exists() and len(out.read_text().splitlines()) >= 2)
        t0 = time.perf_counter()
        with pytest.raises(ConfigError, match=r"r.csv: another process is writing this sweep output"):
            run_sweep(SPEC, output=out, workers=1, simulate=fake_simulate)
        with pytest.raises(ConfigError, match=r"layers.csv: another process is writing this per-layer file"):
            run_sweep(SPEC, output=tmp_path / "other.csv", layers=layers, workers=1, simulate=fake_simulate)
        assert time.perf_counter() - t0 < 5  # at once, before any point is computed
        assert not (tmp_path / "other.csv").exists()
    finally:
        assert proc.wait(timeout=120) == 0
    final = pd.read_csv(out)
    # the first writer's file is whole: one header, one row per point, none twice
    assert len(final) == 12 and not final.duplicated(["arch", "workload", "exec_path"]).any()
    assert out.read_text().count("arch,") == 1
    assert not list(tmp_path.glob(".*.lock"))  # the lock file goes with its holder


def test_lock_is_released_and_reusable(tmp_path):
    path = tmp_path / "x.csv"
    with exclusive(path):
        with pytest.raises(ConfigError, match="another process"):
            with exclusive(path):
                pass
    with exclusive(path):  # released: taken again
        pass


# ------------------------------------------------------------------ orphaned pool workers
def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (pool workers, and a fork server where one is used)."""
    parent_of = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent_of[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = {c for c, pp in parent_of.items() if pp == p}
        todo.extend(kids - out)
        out |= kids
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_pool_workers_exit_after_the_main_process_is_killed(tmp_path):
    out = tmp_path / "r.csv"
    proc = start_slow_sweep(tmp_path, out, 2, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        wait_for(lambda: out.exists() and len(out.read_text().splitlines()) >= 3)
        workers = _descendants(proc.pid)
        assert len(workers) >= 2, "the pool's worker processes were not found"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        t0 = time.perf_counter()
        wait_for(lambda: not any(_alive(w) for w in workers), timeout=10)
        # with the workers gone nobody holds the pipes: a caller reading the output returns
        stdout, _ = proc.communicate(timeout=5)
        assert time.perf_counter() - t0 < 10
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ------------------------------------------------------------------ checked before any work
def test_outputs_and_cache_checked_before_any_work(tmp_path, capsys):
    calls = tmp_path / "calls.log"
    os.environ["ACCELSIM_FAKE_LOG"] = str(calls)
    try:
        (tmp_path / "afile").write_text("x")
        for kw, fragment in [({"cache": tmp_path / "afile"}, "is a file; the cache folder must be a folder"),
                             ({"output": tmp_path}, "suffix '(none)' is not supported"),
                             ({"output": tmp_path / "r.txt"}, "suffix '.txt' is not supported"),
                             ({"output": tmp_path / "afile" / "r.csv"}, "afile")]:
            with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
                run_sweep(SPEC, workers=1, simulate=fake_simulate, **kw)
    finally:
        del os.environ["ACCELSIM_FAKE_LOG"]
    assert not calls.exists()  # nothing was computed


def test_spec_file_locations_name_the_spec(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    (tmp_path / "c").write_text("a file")
    spec.write_text(yaml.safe_dump({**SPEC, "cache": "c"}))
    assert main(["sweep", str(spec), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{spec}: field 'cache': {tmp_path / 'c'}: is a file" in err


def test_corrupt_output_refused_on_resume_and_kept(tmp_path):
    out = tmp_path / "r.csv"
    out.write_bytes(b"arch,workload\n\xff\xfe\x00 not text\n")
    before = out.read_bytes()
    with pytest.raises(ConfigError, match=r"r.csv: cannot resume from the existing rows \(not UTF-8"):
        run_sweep(SPEC, output=out, workers=1, simulate=fake_simulate)
    assert out.read_bytes() == before


def test_symlinked_output_writes_the_target(tmp_path):
    real = tmp_path / "data" / "r.csv"
    real.parent.mkdir()
    link = tmp_path / "r.csv"
    link.symlink_to(real)
    run_sweep(SPEC, output=link, workers=1, simulate=fake_simulate)
    assert link.is_symlink() and real.is_file() and len(pd.read_csv(link)) == 12


def test_report_folder_rules(tmp_path):
    from accelsim.report.build import MANIFEST, _finish, check_report_dir

    assert check_report_dir(tmp_path / "new") == []
    user = tmp_path / "mine"
    user.mkdir()
    (user / "notes.md").write_text("keep me")
    os.utime(user / "notes.md", (time.time() - 100, time.time() - 100))
    with pytest.raises(ConfigError, match=r"not empty and no report was written there .*--force"):
        check_report_dir(user)
    assert check_report_dir(user, force=True) == []
    since = time.time() - 1
    (user / "report.md").write_text("# report")
    _finish(user, since, [])
    assert json.loads((user / MANIFEST).read_text())["files"] == ["report.md"]
    assert check_report_dir(user) == ["report.md"]  # written by a report: no --force needed
    # the next run writes other files: the earlier run's stale file goes, nothing else
    (tmp_path / "outside.txt").write_text("x")
    os.utime(user / "report.md", (time.time() - 100, time.time() - 100))
    since = time.time() - 1
    (user / "new.md").write_text("x")
    _finish(user, since, ["report.md", "gone.png", "../outside.txt"])
    assert not (user / "report.md").exists() and (user / "new.md").exists()
    assert (user / "notes.md").read_text() == "keep me" and (tmp_path / "outside.txt").exists()
    assert json.loads((user / MANIFEST).read_text())["files"] == ["new.md"]


# ------------------------------------------------------------------ reader limits
def test_yaml_limits():
    # our depth check, or libyaml's own (newer libyaml stops flow nesting at 1000 while it
    # scans, before any event reaches the check): either way one line naming the file
    with pytest.raises(ConfigError, match=f"^f.yaml: .*(nested more than {YAML_MAX_DEPTH} levels deep|"
                                          "exceeded maximum nesting depth)"):
        parse_yaml("[" * 10_000 + "]" * 10_000, "f.yaml")
    with pytest.raises(ConfigError, match=f"nested more than {YAML_MAX_DEPTH} levels deep"):
        parse_yaml("[" * 100 + "]" * 100, "f.yaml")  # below libyaml's limit: ours applies
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6))
    with pytest.raises(ConfigError, match=f"aliases expand to more than {YAML_MAX_ALIAS_VALUES:,} values"):
        parse_yaml(laughs, "f.yaml")
    with pytest.raises(ConfigError, match="duplicate key 'a' at line 3 \\(first at line 1\\)"):
        parse_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    with pytest.raises(ConfigError, match="a number of 5,001 characters at line 1"):
        parse_yaml("x: " + "9" * 5001, "f.yaml")
    # merge keys and small anchors are fine
    assert parse_yaml("a: &x {b: 1}\nc: {<<: *x, d: 2}\n", "f.yaml") == {"a": {"b": 1}, "c": {"b": 1, "d": 2}}


def test_messages_are_bounded():
    assert len(one_line("x" * 100_000)) == 600
    assert one_line("a\nb\t c") == "a b c"
    assert len(short(list(range(10**5)))) <= 80 and short(10**5000) == "<int>"


def test_cli_warnings_are_one_line(capsys):
    import warnings

    from accelsim.cli.main import _show_warning

    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        warnings.warn("two\nlines", UserWarning)
    assert capsys.readouterr().err == "warning: two lines\n"


def test_errors_from_spec_files_name_the_file(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump({"arch": {"base": "E", "grid": {"k0": [8]}, "constraints": ["9**9**9 > 0"]},
                                    "workloads": ["segformer-b0"]}))
    assert main(["sweep", str(spec), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {spec}: constraint '9**9**9 > 0': a power over 256 bits")
