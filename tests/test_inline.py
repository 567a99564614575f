"""The infrastructure notebooks' inline tests (nbs/0*, nbs/kernels/*, ...), run as nbdev-test runs them (in-process,
flagged cells skipped). Paper notebooks (those `find_notebooks()` returns) are not run here: tests/test_notebooks.py runs
each of them once, end to end through papermill with the smoke profile, which equals their defaults."""
import pytest
import torch
from nbdev.config import get_config
from nbdev.test import test_nb as run_nb_tests  # aliased: pytest would collect a name starting with test_

from conftest import ROOT, all_notebooks
from specnb.repro import find_notebooks

PAPER_PATHS = {info.path.resolve() for info in find_notebooks(ROOT).values()}
INFRA = [p for p in all_notebooks() if p.resolve() not in PAPER_PATHS]


def skipped_flags():
    cfg = get_config(ROOT)
    flags = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags)
    if torch.cuda.is_available(): flags = [f for f in flags if f != "gpu"]
    return flags


def test_every_notebook_runs_once():
    "Each source notebook is run by exactly one of the two suites: inline here, or papermill smoke in test_notebooks.py."
    assert PAPER_PATHS and INFRA
    assert set(INFRA) | {p for p in all_notebooks() if p.resolve() in PAPER_PATHS} == set(all_notebooks())
    # nbs/00_package.ipynb imports every exported module in a fresh interpreter: it must stay in this suite
    assert ROOT / "nbs" / "00_package.ipynb" in INFRA


@pytest.mark.parametrize("nb", INFRA, ids=lambda p: str(p.relative_to(ROOT / "nbs")))
def test_notebook_inline(nb, monkeypatch, tmp_path):
    monkeypatch.setenv("SPECNB_OUT", str(tmp_path))  # notebooks run by hand write here, not into reports/
    ok, seconds = run_nb_tests(nb, skip_flags=skipped_flags(), basepath=ROOT, do_print=False)
    assert ok, f"{nb.name}: an inline test failed (traceback above)"
