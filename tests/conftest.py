"Shared pytest setup: headless plotting, the Triton interpreter on CPU, and paths."
import os
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
try:
    import torch
    if not torch.cuda.is_available(): os.environ.setdefault("TRITON_INTERPRET", "1")  # before any @triton.jit
except ImportError:
    pass

import pytest

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


V6, PROMPT6 = 6, [1, 3, 4, 1, 3]   # the tiny pair's vocabulary and the prompt its exactness tests decode


@pytest.fixture(scope="module")
def tiny_pair():
    "A float64 Llama target (2 layers) and draft (1 layer) with a 6-token vocabulary: small enough to enumerate every random path."
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=V6, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, max_position_embeddings=64)
    target = LlamaForCausalLM(cfg).eval().double()
    draft = LlamaForCausalLM(LlamaConfig(**{**cfg.to_dict(), "num_hidden_layers": 1})).eval().double()
    with torch.no_grad():                                          # sharper distributions: top-p then keeps 2-3 tokens
        target.lm_head.weight.mul_(6); draft.lm_head.weight.mul_(6)
    return target, draft
