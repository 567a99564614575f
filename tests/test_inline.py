"Every notebook's inline tests, run as nbdev-test runs them (in-process, flagged cells skipped)."
import pytest
import torch
from nbdev.config import get_config
from nbdev.test import test_nb as run_nb_tests  # aliased: pytest would collect a name starting with test_

from conftest import ROOT, all_notebooks


def skipped_flags():
    cfg = get_config(ROOT)
    flags = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags)
    if torch.cuda.is_available(): flags = [f for f in flags if f != "gpu"]
    return flags


@pytest.mark.parametrize("nb", all_notebooks(), ids=lambda p: str(p.relative_to(ROOT / "nbs")))
def test_notebook_inline(nb, monkeypatch, tmp_path):
    monkeypatch.setenv("SPECNB_OUT", str(tmp_path))  # notebooks run by hand write here, not into reports/
    ok, seconds = run_nb_tests(nb, skip_flags=skipped_flags(), basepath=ROOT, do_print=False)
    assert ok, f"{nb.name}: an inline test failed (traceback above)"
