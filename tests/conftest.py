"Shared pytest setup: headless plotting, the Triton interpreter on CPU, and paths."
import os
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
try:
    import torch
    if not torch.cuda.is_available(): os.environ.setdefault("TRITON_INTERPRET", "1")  # before any @triton.jit
except ImportError:
    pass

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / "nbs"


def all_notebooks():
    "Every source notebook under nbs/ (folders and files starting with _ or . are scratch)."
    return sorted(p for p in NBS.rglob("*.ipynb")
                  if not any(part.startswith(("_", ".")) for part in p.relative_to(NBS).parts))
