"""Geometry of the NoC inside the PE array (docs/cost_model.md, NoC): a 2-D mesh.

MAGNet's template and Simba (Shao et al., MICRO 2019) connect the PEs and the global buffer by
a 2-D mesh with a router in every PE and multicast support; a mesh is therefore modelled, not a
tree. The ``num_pe`` PEs fill a ``cols`` x ``rows`` mesh row by row (``cols = ceil(sqrt(num_pe))``),
and the global buffer's port attaches at the corner PE (0, 0) through one link.

Hop counts (each hop = one link traversal of one bit, charged ``noc_pj_per_bit_hop``):

- unicast from the global buffer to PE (x, y): 1 + x + y; :attr:`Mesh.unicast_hops` is its mean
  over the PEs (16 PEs: 4.0; 64 PEs: 8.0);
- a multicast of one byte to m PEs of a contiguous block (the PEs that share an operand under a
  spatial split) follows an XY tree: the hops to the block plus one link per further PE,
  ``unicast_hops + m - 1`` (:meth:`Mesh.multicast_links`);
- a cross-PE partial-sum reduction over a chain of c adjacent PEs moves c - 1 partial outputs
  one hop each; the last PE's PPU adds them and sends the result to the global buffer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Mesh:
    """A ``cols`` x ``rows`` mesh holding ``num_pe`` PEs, filled row by row."""

    num_pe: int
    cols: int
    rows: int

    @property
    def unicast_hops(self) -> float:
        """Mean hops from the global-buffer port (at PE (0, 0)) to a PE: 1 + mean(x + y)."""
        n, c = self.num_pe, self.cols
        full, rem = divmod(n, c)
        sum_x = full * c * (c - 1) / 2 + rem * (rem - 1) / 2
        sum_y = c * full * (full - 1) / 2 + rem * full
        return 1.0 + (sum_x + sum_y) / n

    def multicast_links(self, receivers: int) -> float:
        """Link traversals of one multicast to ``receivers`` PEs of a contiguous block (XY tree)."""
        return self.unicast_hops + max(receivers, 1) - 1

    def describe(self) -> str:
        """One line: the mesh's shape and its mean unicast hop count."""
        return (f"{self.cols} x {self.rows} mesh of {self.num_pe} PEs, global buffer at a corner, "
                f"{self.unicast_hops:.3g} hops on average")


@lru_cache(maxsize=256)
def mesh(num_pe: int) -> Mesh:
    """The mesh of ``num_pe`` PEs (see the module docstring)."""
    cols = math.ceil(math.sqrt(num_pe))
    return Mesh(num_pe, cols, math.ceil(num_pe / cols))
