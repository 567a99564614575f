"Each paper notebook end to end through papermill with the smoke profile, as `specnb reproduce` runs it."
import json
import re
from pathlib import Path

import nbformat
import pytest

from specnb.repro import _flags, find_notebooks, reproduce

PAPERS = sorted(find_notebooks())
NBS = Path(__file__).parents[1] / "nbs"
USES_WIDGETS = re.compile(r"^\s*(import|from)\s+ipywidgets", re.M)


@pytest.mark.parametrize("name", PAPERS)
def test_paper_notebook_smoke(name, tmp_path):
    # a per-cell limit below pytest's own, so a stuck cell fails with papermill's message, not a thread dump
    (result,) = reproduce([name], profile="smoke", out=tmp_path, progress=False, timeout=600)
    assert result.status == "ok", result.error
    out = tmp_path / name
    m = json.loads((out / "metrics.json").read_text())
    assert m["run"]["status"] == "ok" and m["run"]["profile"] == "smoke"
    assert m["meta"]["device_name"] and m["meta"]["versions"]["torch"]
    assert m["claims"], f"{name} records no claim"
    for claim in m["claims"].values():
        assert isinstance(claim["holds"], bool) and claim["paper"] not in ("", None) and claim["note"]
    assert (out / f"{name}.ipynb").exists() and (out / f"{name}.html").exists()
    assert name in (tmp_path / "index.html").read_text()
    assert name in (tmp_path / "claims.csv").read_text()


def test_widget_cells_are_flagged():
    "Cells that open ipywidgets can stall nbclient until the cell timeout (nbclient #312): they must carry `#| widgets`."
    unflagged = [f"{p.relative_to(NBS)} cell {i}" for p in sorted(NBS.rglob("*.ipynb"))
                 for i, c in enumerate(nbformat.read(p, as_version=4).cells)
                 if c.cell_type == "code" and USES_WIDGETS.search(c.source) and "widgets" not in _flags(c.source)]
    assert not unflagged, f"add `#| widgets` to: {unflagged}"


@pytest.mark.parametrize("name", PAPERS)
def test_papermill_parses_every_parameter(name):
    "papermill skips (with a warning only) a parameter line its regex cannot parse, e.g. one whose comment holds '='."
    import papermill as pm
    from specnb.repro import notebook_parameters
    path = str(find_notebooks()[name].path)
    missing = set(notebook_parameters(path)) - set(pm.inspect_notebook(path))
    assert not missing, f"papermill cannot parse the parameter line(s) of {sorted(missing)}: rephrase their comments (no '=')"
