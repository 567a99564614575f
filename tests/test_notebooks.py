"""Each paper notebook end to end through papermill with the smoke profile, as `specnb reproduce` runs it: the only run
of a paper notebook in `make test` (tests/test_inline.py runs the infrastructure notebooks). The smoke profile equals the
notebooks' defaults, so these runs are what a reader gets by running a notebook by hand. Each run's wall time is printed
at the end of the session (see conftest.py); the budget is 30 s per notebook on 2 cores."""
import json
import re
from pathlib import Path

import nbformat
import pytest

from specnb.repro import _flags, find_notebooks, notebook_parameters, read_settings, reproduce, resolve_params

PAPERS = sorted(find_notebooks())
NBS = Path(__file__).parents[1] / "nbs"
USES_WIDGETS = re.compile(r"^\s*(import|from)\s+ipywidgets", re.M)


@pytest.mark.parametrize("name", PAPERS)
def test_paper_notebook_smoke(name, tmp_path, record_property):
    # a per-cell limit below pytest's own, so a stuck cell fails with papermill's message, not a thread dump
    (result,) = reproduce([name], profile="smoke", out=tmp_path, progress=False, timeout=600)
    record_property("smoke_seconds", round(result.seconds, 1))   # printed per notebook at the end of the session
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


@pytest.mark.parametrize("name", PAPERS)
def test_defaults_are_the_smoke_profile(name):
    "A notebook run by hand (or by nbdev) runs exactly what `make test` runs: every [smoke] / [name.smoke] value is the default."
    info = find_notebooks()[name]
    declared = notebook_parameters(info.path)
    smoke = resolve_params(info, "smoke", None, read_settings())
    differ = {k: f"default {declared[k].default!r}, smoke {v!r}" for k, v in smoke.items() if declared[k].default != v}
    assert not differ, f"{name}: make the parameters cell's defaults equal the smoke profile in settings.ini: {differ}"


@pytest.mark.parametrize("name", PAPERS)
def test_parameters_are_read_not_retyped(name):
    "start_run reads the declared parameters itself, and list-valued parameters are lists, not comma strings parsed by hand."
    nb = nbformat.read(find_notebooks()[name].path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    calls = [line for src in code for line in src.splitlines() if "start_run(" in line and not line.lstrip().startswith(("from", "import"))]
    assert calls and not any("params=" in line for line in calls), f"{name}: call start_run({name!r}, device=...) without params=: {calls}"
    by_hand = [line.strip() for src in code for line in src.splitlines() if re.search(r"\.split\(\s*['\"],['\"]\s*\)", line)]
    assert not by_hand, f"{name}: declare list parameters as lists (e.g. sizes: list[int] = [8, 16]) instead of parsing: {by_hand}"
    commas = [p.name for p in notebook_parameters(find_notebooks()[name].path).values()
              if p.type == "str" and "comma" in p.help]
    assert not commas, f"{name}: {commas} are comma-separated strings; declare them as list[...]"
