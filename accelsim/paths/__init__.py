"""Dynamic execution paths (SPEC.md section 8): path syntax, graph transforms, published
accuracy annotations, path enumeration and resource-dependent (RDD) path selection.

    from accelsim.paths import apply_path, lookup
    wl = apply_path(load_workload("segformer-b2"), "blocks=2-3-5-3;fuse_in=896")
"""

from __future__ import annotations

from .accuracy import (PAUMER_LABEL, UNKNOWN, annotate, effective_path, load_accuracy,
                       load_paumer_curve, lookup)
from .apply import CONFLICTS, apply_path, check_conflicts
from .syntax import (KEYS, canonical_path, format_path, keys_for_family, merge_paths,
                     parse_path)

__all__ = ["CONFLICTS", "KEYS", "PAUMER_LABEL", "UNKNOWN", "annotate", "apply_path",
           "canonical_path", "check_conflicts", "effective_path", "format_path",
           "keys_for_family", "load_accuracy", "load_paumer_curve", "lookup", "merge_paths",
           "parse_path"]
