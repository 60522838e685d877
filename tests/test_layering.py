"""The package layering (docs/SPEC.md, Layout): lower packages never import upper ones.

Every ``import`` statement is read from the source (module level and inside functions:
a lazy import ties packages as much as an eager one), relative imports resolved.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "accelsim"

#: package -> the accelsim subpackages (or top-level modules) it must never import
FORBIDDEN = {
    "workload": {"paths", "sweep", "plots", "report", "cli", "compose"},
    "paths": {"plots", "report", "cli", "compose"},
    "cost": {"sweep", "paths", "compose"},
}


def imported_modules_under(path: Path, root: Path) -> set[str]:
    rel = path.relative_to(root)
    package = ["accelsim", *rel.parent.parts]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                mod = ".".join(package[: len(package) - node.level + 1] + ([mod] if mod else []))
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)  # `from .. import paths`
    return out


def violations(package: str, root: Path = ROOT) -> list[str]:
    """``FILE imports MODULE`` for every import under ``root/package`` that the layering forbids."""
    banned = FORBIDDEN[package]
    found = []
    for path in sorted((root / package).rglob("*.py")):
        for mod in sorted(imported_modules_under(path, root)):
            parts = mod.split(".")
            if parts[0] == "accelsim" and len(parts) > 1 and parts[1] in banned:
                found.append(f"{path.relative_to(root.parent).as_posix()} imports {mod}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_packages_do_not_import_upper_ones(package):
    assert violations(package) == []


def test_the_checker_sees_lazy_and_relative_imports(tmp_path):
    """The rule can fail: a function-level relative import of ``paths`` from ``workload``
    (the cycle this layering removed) and a plain ``from accelsim import sweep`` are found."""
    fake = tmp_path / "accelsim"
    (fake / "workload" / "sub").mkdir(parents=True)
    (fake / "workload" / "bad.py").write_text("def f():\n    from ..paths import apply_path\n")
    (fake / "workload" / "sub" / "worse.py").write_text("from accelsim import sweep\nfrom ...cli import x\n")
    (fake / "workload" / "fine.py").write_text("from .ir import Workload\nfrom ..errors import E\n")
    assert violations("workload", fake) == ["accelsim/workload/bad.py imports accelsim.paths",
                                            "accelsim/workload/bad.py imports accelsim.paths.apply_path",
                                            "accelsim/workload/sub/worse.py imports accelsim.cli",
                                            "accelsim/workload/sub/worse.py imports accelsim.cli.x",
                                            "accelsim/workload/sub/worse.py imports accelsim.sweep"]


def test_load_workload_composes_model_and_path():
    """``accelsim.load_workload(name, exec_path=...)`` still applies the path; the workload
    package alone refuses a named workload that asks for one instead of dropping it."""
    import accelsim
    from accelsim.workload import load_workload

    full = accelsim.load_workload("segformer-b2")
    cut = accelsim.load_workload("segformer-b2", exec_path="blocks=2-3-5-3")
    assert cut.exec_path == "blocks=2-3-5-3"
    assert cut.macs < full.macs  # four encoder blocks bypassed
    assert load_workload("segformer-b2").macs == full.macs
    assert accelsim.load_workload("segformer-b2", exec_path="(full model)").macs == full.macs


def test_named_workload_path_applied_once(tmp_path):
    """A named workload's ``exec_path`` field is applied by accelsim.load_workload and refused
    (not dropped) by the path-free loader; a saved transformed workload reloads as saved
    (its layers already went through the path, which is not applied a second time)."""
    import accelsim
    from accelsim.errors import WorkloadError
    from accelsim.workload import load_workload
    from accelsim.workload.yamlio import save_workload_yaml

    named = tmp_path / "cut.yaml"
    named.write_text("model: segformer-b2\nexec_path: blocks=2-3-5-3\n")
    cut = accelsim.load_workload(str(named))
    assert cut.exec_path == "blocks=2-3-5-3"
    assert cut.macs == accelsim.load_workload("segformer-b2", exec_path="blocks=2-3-5-3").macs
    with pytest.raises(WorkloadError, match="field 'exec_path'"):
        load_workload(str(named))
    saved = save_workload_yaml(cut, tmp_path / "saved.yaml")
    back = accelsim.load_workload(str(saved))
    assert (back.macs, len(back.layers), back.exec_path) == (cut.macs, len(cut.layers), cut.exec_path)
