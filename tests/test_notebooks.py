"Each paper notebook end to end through papermill with the smoke profile, as `specnb reproduce` runs it."
import json

import pytest

from specnb.repro import find_notebooks, reproduce

PAPERS = sorted(find_notebooks())


@pytest.mark.parametrize("name", PAPERS)
def test_paper_notebook_smoke(name, tmp_path):
    (result,) = reproduce([name], profile="smoke", out=tmp_path, progress=False)
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
