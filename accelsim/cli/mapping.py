"""``accelsim map``: one layer's mapping as a loop nest (like Timeloop's ``map.txt``).

The mapping is the searched optimum, or one written in a YAML file (``--mapping``), which
is checked against the mapping space and compared with the searched optimum.
"""

from __future__ import annotations

import click

from ..errors import AccelsimError
from .common import (CANDIDATES, OBJECTIVE_CHOICES, emit, load_cli_workload, mac_layer, scope_option, tolerance_option,
                     workload_options)


def register(cli: click.Group) -> None:
    @cli.command("map")
    @workload_options
    @click.option("--layer", "-l", "layer_name", required=True,
                  help="layer name, e.g. decode_head.linear_fuse (see `accelsim workload show`)")
    @click.option("--arch", "-a", default="E", show_default=True, help="study label A..M or arch YAML")
    @click.option("--objective", type=click.Choice(OBJECTIVE_CHOICES), default="latency",
                  show_default=True, help="mapping-search objective")
    @scope_option()
    @tolerance_option()
    @click.option("--max-candidates", type=CANDIDATES, default=None,
                  help="cap on mapping candidates (default: exhaustive)")
    @click.option("--mapping", "mapping_file", default=None, metavar="FILE.yaml",
                  help="cost this mapping instead of the searched one (see docs/mapping.md)")
    @click.option("--save-mapping", default=None, metavar="FILE.yaml",
                  help="write the shown mapping as a YAML to edit and pass to --mapping (checked before "
                       "the search, as -o is)")
    @click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                  show_default=True)
    @click.option("-o", "out", default=None, help="write to FILE instead of stdout")
    def map_cmd(workload: str, input_size: str | None, classes: int | None, exec_path: str,
                layer_name: str, arch: str, objective: str, scope: str, tolerance: float,
                max_candidates: int | None,
                mapping_file: str | None, save_mapping: str | None, fmt: str, out: str | None) -> None:
        """Print the mapping of one layer as a loop nest: spatial split, PE tiles, global-buffer
        loop order with trip counts, bytes moved per level, cycle terms and the bound."""
        import accelsim
        from ..cost.loopnest import comparison_text, loop_nest, ratios
        from ..cost.mapspace import mapping_yaml, read_mapping_file
        from ..cost.model import evaluate_mapping, layer_dram_flags, map_layer
        from ..safeio import write_text

        arch_cfg = accelsim.load_arch(arch)
        given = read_mapping_file(mapping_file) if mapping_file else None
        wl = load_cli_workload(workload, input_size, classes, exec_path)
        layer = mac_layer(wl, layer_name)
        if given is not None and given.get("layer", layer.name) != layer.name:
            raise AccelsimError(f"{mapping_file}: field 'layer' is {given['layer']!r} but --layer "
                                f"is {layer.name!r}")
        flags = layer_dram_flags(wl, layer.name)
        model = {"scope": scope}  # cost-model settings that both the search and a given mapping take
        # a given mapping is checked and costed before the search: a bad one costs no work
        cost = None if given is None else evaluate_mapping(
            layer, arch_cfg, {k: v for k, v in given.items() if k != "layer"}, **model, **flags,
            source=str(mapping_file))
        best = map_layer(layer, arch_cfg, objective=objective, max_candidates=max_candidates,
                         tolerance=tolerance, **model, **flags)
        cost = cost or best
        nest = loop_nest(layer, arch_cfg, cost, scope)
        if save_mapping:
            write_text(save_mapping, mapping_yaml(cost.mapping, layer.name), "saved mapping")
            click.echo(f"wrote {save_mapping}", err=True)
        if fmt == "json":
            data = {"workload": wl.name, "scope": scope, "objective": objective, "tolerance": tolerance,
                    "loop_nest": nest.to_dict()}
            if given is not None:
                data["searched"] = {"mapping": best.mapping, "cycles": best.cycles,
                                    "energy_j": best.energy_j, "candidates": best.candidates}
                data["ratio_to_searched"] = ratios(cost, best)
            else:
                data["candidates"] = best.candidates
            from ..tableio import json_dumps

            text = json_dumps(data, indent=2)
        else:
            text = nest.text() + "\n\n" + (
                comparison_text(cost, best, objective) if given is not None else
                f"searched optimum under objective {objective} ({best.candidates:,} candidates "
                "evaluated)")
        emit(text, out)
