"""Architecture (SPEC.md section 2), technology (section 5) and area model (section 6)."""

from .config import (ArchConfig, TechConfig, arch_dir, arch_from_dict, list_arch_labels, load_arch,
                     load_tech)

__all__ = ["ArchConfig", "TechConfig", "arch_dir", "arch_from_dict", "list_arch_labels", "load_arch",
           "load_tech"]
