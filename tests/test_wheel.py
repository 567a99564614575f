"""A wheel built from the checkout works installed, in an empty folder, with no checkout in sight (issue 11 §2).

The wheel is built from a copy of the checkout and installed without dependencies into a fresh virtualenv that
borrows this environment's packages (torch & co.) through a `.pth` file, so the test needs no network and takes
about a minute: `specnb list`, a smoke reproduction and a short MiniSpecBench run, all from an empty folder."""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from specnb.core import repo_root

ROOT = repo_root()
SKIP = shutil.ignore_patterns(".git", ".venv", "build", "dist", "reports", "*.egg-info", "__pycache__", ".pytest_cache",
                              "_work", "_runs", ".ipynb_checkpoints", "_proc", "_docs", ".whl", ".gl")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    "A fresh venv with the wheel of this checkout installed, and an empty folder to run it in."
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=SKIP)
    run = lambda *a, **k: subprocess.run([str(x) for x in a], capture_output=True, text=True, timeout=300, **k)
    r = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp / "dist", src)
    assert r.returncode == 0, r.stderr[-3000:]
    (wheel,) = (tmp / "dist").glob("specnb-*.whl")
    r = run(sys.executable, "-m", "venv", "--without-pip", tmp / "venv")
    assert r.returncode == 0, r.stderr
    py = tmp / "venv" / "bin" / "python"
    purelib = Path(run(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (purelib / "_borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")   # torch, papermill, ...
    r = run(py, "-m", "pip", "install", "--no-deps", "--ignore-installed", "-q", wheel)   # never touches this env
    assert r.returncode == 0, r.stderr[-3000:]
    empty = tmp / "empty"; empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECNB_")}
    env.update(JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"),   # nbconvert's templates live with its package
               OMP_NUM_THREADS="1", MPLBACKEND="Agg", TOKENIZERS_PARALLELISM="false")
    def specnb(*argv):
        return subprocess.run([tmp / "venv" / "bin" / "specnb", *argv], cwd=empty, env=env, capture_output=True, text=True, timeout=300)
    return py, empty, env, specnb, wheel


def test_the_wheel_ships_notebooks_profiles_and_data(installed):
    import zipfile
    names = set(zipfile.ZipFile(installed[4]).namelist())
    for must in ("specnb/_shipped/settings.ini", "specnb/_shipped/nbs/spec/20_speculative_sampling.ipynb",
                 "specnb/_shipped/data/bench/minispecbench.jsonl", "specnb/_shipped/data/zoo/target/model.safetensors",
                 "specnb/repro.py", "specnb/spec/speculative_sampling.py"):
        assert must in names, must
    assert not any("_work/" in n or ".ipynb_checkpoints" in n for n in names)


def test_installed_specnb_lists_reproduces_and_benches_outside_a_checkout(installed):
    py, empty, env, specnb, _ = installed
    where = subprocess.run([py, "-c", "import specnb; print(specnb.__file__)"], cwd=empty, env=env, capture_output=True, text=True)
    assert "/venv/" in where.stdout, where                         # the wheel, not this checkout

    r = specnb("list")
    assert r.returncode == 0 and "speculative_sampling" in r.stdout and "not run" in r.stdout, r.stderr

    r = specnb("reproduce", "speculative_sampling", "--profile", "smoke", "--quiet")
    assert r.returncode == 0, r.stderr[-3000:]
    report = empty / "reports" / "speculative_sampling"               # ./reports, never inside the installed package
    m = json.loads((report / "metrics.json").read_text())
    assert m["run"]["status"] == "ok" and m["claims"], m["run"]
    assert (report / "speculative_sampling.html").exists() and (empty / "reports" / "index.html").exists()

    r = specnb("bench", "--n", "1", "--categories", "math", "--max-new-tokens", "8", "--methods", "specnb_ar,specnb_sd",
               "--json", "bench.json", "--quiet")
    assert r.returncode == 0, r.stderr[-3000:]
    doc = json.loads((empty / "bench.json").read_text())
    assert {s["method"] for s in doc["summary"]} == {"specnb_ar", "specnb_sd"}
    assert all(s["identical"] == 1.0 for s in doc["summary"])
    assert sorted(p.name for p in empty.iterdir()) == ["bench.json", "reports"]
