"The `specnb` command line: listing, clear errors for bad input, and the notebook-failure path."
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from specnb.repro import main

SPECNB = str(Path(sys.executable).parent / "specnb")


def run_cli(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_console_script_lists_notebooks():
    p = subprocess.run([SPECNB, "list"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "speculative_sampling" in p.stdout and "Speculative sampling" in p.stdout


def test_params_shows_profiles(capsys):
    rc, out, err = run_cli(capsys, "params", "speculative_sampling")
    assert rc == 0, err
    assert "gamma: int = 3" in out and "smoke=" in out and "cpu=" in out


def test_unknown_notebook_names_the_valid_ones(capsys):
    rc, out, err = run_cli(capsys, "reproduce", "nope")
    assert rc == 2
    assert "unknown notebook 'nope'" in err and "Valid notebooks: " in err and "speculative_sampling" in err


def test_misspelt_notebook_gets_a_suggestion(capsys):
    rc, out, err = run_cli(capsys, "reproduce", "speculative_samplin")
    assert rc == 2 and "Did you mean 'speculative_sampling'?" in err


def test_unknown_parameter_names_the_valid_ones(capsys, tmp_path):
    rc, out, err = run_cli(capsys, "reproduce", "speculative_sampling", "-p", "gama", "3", "--out", str(tmp_path))
    assert rc == 2
    assert "unknown parameter 'gama'" in err and "Did you mean 'gamma'?" in err and "Valid parameters: " in err
    assert not any(tmp_path.iterdir()), "a rejected command must not write anything"


def test_wrong_type_names_the_type(capsys, tmp_path):
    rc, out, err = run_cli(capsys, "reproduce", "speculative_sampling", "-p", "gamma", "three", "--out", str(tmp_path))
    assert rc == 2 and "'gamma' of notebook 'speculative_sampling' expects int, got 'three'" in err


def test_unknown_profile_names_the_valid_ones(capsys):
    rc, out, err = run_cli(capsys, "reproduce", "speculative_sampling", "--profile", "cpuu")
    assert rc == 2 and "unknown profile 'cpuu'" in err and "Valid profiles: smoke, cpu, gpu" in err


def test_no_name_and_no_all(capsys):
    rc, out, err = run_cli(capsys, "reproduce")
    assert rc == 2 and "--all" in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without a GPU")
def test_gpu_profile_without_gpu(capsys, tmp_path):
    rc, out, err = run_cli(capsys, "reproduce", "speculative_sampling", "--profile", "gpu", "--out", str(tmp_path))
    assert rc == 2 and "needs a CUDA GPU" in err


def test_not_a_checkout(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SPECNB_ROOT", str(tmp_path))
    rc, out, err = run_cli(capsys, "list")
    assert rc == 2 and "SPECNB_ROOT" in err and "is not one" in err


# --- the failure path, on a fixture checkout made here -------------------------------------------------

FLAKY_CELLS = [
    ("markdown", "# Flaky\n\n> A fixture notebook that fails when asked to.", None),
    ("code", "#| default_exp demo.flaky", None),
    ("code", 'fail: bool = False  # raise in the last cell\n'
             'message: str = "asked to fail"  # what the last cell raises when fail is set\n'
             'score: float = 1.0  # [0, 10] the measured value\n'
             'n_steps: int = 1  # [1, inf) a count that must be positive\n'
             'sleep: float = 0.0  # [0, 600] seconds the next-to-last cell sleeps\n'
             'plot: bool = False  # save a figure\n'
             'out_dir: str = ""  # output folder', ["parameters"]),
    ("markdown", "The claim, with math: $\\tau = \\frac{1-\\alpha^{\\gamma+1}}{1-\\alpha}$ tokens per step, and\n\n"
                 "$$E[\\text{tokens}] = \\sum_{i=0}^{\\gamma} \\alpha^i$$\n\nbut `$not math$` in code.", None),
    ("code", "from specnb.core import start_run, record_claim, savefig\nrun = start_run('flaky', out_dir)\n"
             "record_claim('works', paper=1.0, measured=score, holds=score >= 1.0, note='fixture')", None),
    ("code", "#| hide\nhidden_test_value = 41 + 1", None),
    ("code", "if plot:\n    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt\n"
             "    fig, ax = plt.subplots(figsize=(4, 2.5)); ax.plot([1, 2, 3, 4], [1, 1.6, 2.1, 2.4], marker='o')\n"
             "    ax.set(xlabel='gamma', ylabel='tau'); savefig(fig, 'tau.png')", None),
    ("code", "#| gpu\nimport torch\nassert torch.cuda.is_available(), 'a gpu cell ran without a GPU'", None),
    ("code", "#| slow\nfrom specnb.core import record\nrecord('slow_cell_ran', True)", None),
    ("code", "import time\ntime.sleep(sleep)", None),
    ("code", "if fail:\n    raise ValueError(message)", None),
]


@pytest.fixture
def fixture_root(tmp_path, monkeypatch):
    root = tmp_path / "checkout"
    (root / "nbs" / "demo").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.nbdev]\n")
    (root / "settings.ini").write_text("[smoke]\ndevice = cpu\n[cpu]\n[flaky.cpu]\nscore = 0.5\n")
    cells = []
    for kind, src, tags in FLAKY_CELLS:
        c = nbformat.v4.new_markdown_cell(src) if kind == "markdown" else nbformat.v4.new_code_cell(src)
        if tags: c.metadata["tags"] = tags
        cells.append(c)
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, root / "nbs" / "demo" / "10_flaky.ipynb")
    monkeypatch.setenv("SPECNB_ROOT", str(root))
    return root


def claims_rows(out):
    with open(out / "claims.csv") as f: return [r for r in csv.DictReader(f) if r["notebook"] == "flaky"]


def test_failing_notebook_is_reported_and_replaces_stale_results(capsys, fixture_root, tmp_path):
    out = tmp_path / "reports"
    rc, _, err = run_cli(capsys, "reproduce", "flaky", "--profile", "smoke", "--out", str(out), "--quiet")
    assert rc == 0, err                                   # gpu and slow cells were dropped, nothing failed
    m = json.loads((out / "flaky" / "metrics.json").read_text())
    assert m["run"]["status"] == "ok" and m["run"]["dropped_cells"] == 2 and "slow_cell_ran" not in m["metrics"]
    assert [(r["claim"], r["holds"], r["status"]) for r in claims_rows(out)] == [("works", "True", "ok")]

    rc, _, err = run_cli(capsys, "reproduce", "flaky", "--profile", "smoke", "-p", "fail", "true", "--out", str(out), "--quiet")
    assert rc == 1
    assert "flaky failed" in err and "raise ValueError(message)" in err and "ValueError: asked to fail" in err
    m = json.loads((out / "flaky" / "metrics.json").read_text())
    assert m["run"]["status"] == "failed" and "ValueError: asked to fail" in m["run"]["error"]
    rows = claims_rows(out)
    assert [(r["claim"], r["status"]) for r in rows] == [("", "failed")], rows   # the earlier claim is not shown
    assert "ValueError: asked to fail" in rows[0]["note"]
    assert "failed" in (out / "index.html").read_text()
    assert (out / "flaky" / "flaky.ipynb").exists()      # the executed notebook shows the failing cell


def test_profile_sections_apply_and_typos_are_caught(capsys, fixture_root, tmp_path):
    out = tmp_path / "reports"
    rc, _, err = run_cli(capsys, "reproduce", "flaky", "--profile", "cpu", "--out", str(out), "--quiet", "--no-html")
    assert rc == 0, err
    m = json.loads((out / "flaky" / "metrics.json").read_text())
    assert m["claims"]["works"]["measured"] == 0.5 and m["claims"]["works"]["holds"] is False
    assert m["run"]["profile"] == "cpu" and not (out / "flaky" / "flaky.html").exists()
    assert m["metrics"]["slow_cell_ran"] is True and m["run"]["dropped_cells"] == (0 if torch.cuda.is_available() else 1)
    (fixture_root / "settings.ini").write_text("[smoke]\n[cpu]\n[flaky.cpuu]\nscore = 2\n")
    rc, _, err = run_cli(capsys, "reproduce", "flaky", "--out", str(out))
    assert rc == 2 and "[flaky.cpuu] names no profile" in err and "Did you mean 'cpu'?" in err


# --- specnb bench ---------------------------------------------------------------------------------------

def zoo_shipped():
    from specnb import zoo
    return {"target", "draft"} <= set(zoo.available())


@pytest.mark.skipif(not zoo_shipped(), reason="the zoo models are not in data/zoo")
def test_bench_cli_writes_json(capsys, tmp_path):
    out = tmp_path / "bench.json"
    rc, stdout, err = run_cli(capsys, "bench", "--n", "1", "--categories", "math,code", "--max-new-tokens", "12",
                              "--methods", "specnb_ar,specnb_sd,hf_ar,hf_pld", "--json", str(out), "--quiet")
    assert rc == 0, err
    doc = json.loads(out.read_text())
    overall = {r["method"]: r for r in doc["summary"] if r["category"] == "overall"}
    assert set(overall) == {"specnb_ar", "specnb_sd", "hf_ar", "hf_pld"}
    assert all(r["identical"] == 1.0 for r in overall.values())          # greedy decoding is lossless
    assert overall["specnb_ar"]["tau"] == 1.0 and overall["specnb_sd"]["tau"] >= 1.0
    assert doc["meta"]["device_name"] and len(doc["rows"]) == 4 * 2


def test_bench_cli_bad_input(capsys):
    rc, _, err = run_cli(capsys, "bench", "--model", "nope")
    assert rc == 2 and "no zoo model 'nope'" in err
    if zoo_shipped():
        rc, _, err = run_cli(capsys, "bench", "--methods", "specnb_ar,magic", "--n", "1")
        assert rc == 2 and "unknown methods ['magic']" in err
