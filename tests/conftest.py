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


SMOKE_BUDGET_S = 30   # seconds per paper notebook's smoke run on 2 cores (measured and printed, never asserted: see DESIGN §7)


def pytest_terminal_summary(terminalreporter):
    "One line per paper notebook with its papermill smoke time (tests/test_notebooks.py records them; works under xdist)."
    times = {}
    for reports in terminalreporter.stats.values():
        for r in reports:
            if getattr(r, "when", None) == "call":
                for key, value in getattr(r, "user_properties", ()):
                    if key == "smoke_seconds": times[r.nodeid.split("[", 1)[-1].rstrip("]")] = value
    if not times: return
    terminalreporter.section("paper notebooks: smoke time (budget %d s each)" % SMOKE_BUDGET_S)
    for name, s in sorted(times.items(), key=lambda kv: -kv[1]):
        over = f"  OVER by {s - SMOKE_BUDGET_S:.1f} s" if s > SMOKE_BUDGET_S else ""
        terminalreporter.write_line(f"{name:<24} {s:6.1f} s{over}")
    terminalreporter.write_line(f"{'total':<24} {sum(times.values()):6.1f} s")
