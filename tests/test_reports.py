"""Reports that never lose a user's files or show a stale result as current (issue 11 §1), and the scoreboard
page and HTML reports (§5). Each test runs the fixture notebook of `test_cli.py` in a throw-away checkout."""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_cli import SPECNB, claims_rows, fixture_root, run_cli  # noqa: F401  (fixture_root is a fixture)

QUICK = ("--profile", "smoke", "--quiet", "--no-html")


def one_line(err: str) -> str:
    "The error a refused command printed: exactly one line, no traceback."
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# --- only what specnb wrote is ever removed ------------------------------------------------------------

def test_a_users_files_are_never_deleted(capfd, fixture_root, tmp_path):
    out = tmp_path / "reports"
    rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK, "--out", str(out))
    assert rc == 0, err
    (out / "flaky" / "notes.txt").write_text("my notes")
    rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK, "--out", str(out))
    assert rc == 2 and "notes.txt" in one_line(err) and "did not write" in err
    assert (out / "flaky" / "notes.txt").read_text() == "my notes" and (out / "flaky" / "metrics.json").exists()

    theirs = tmp_path / "theirs"                         # a folder specnb did not make: refused, untouched
    theirs.mkdir(); (theirs / "index.html").write_text("my page"); (theirs / "flaky").mkdir()
    (theirs / "flaky" / "data.csv").write_text("1,2")
    rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK, "--out", str(theirs))
    assert rc == 2 and "did not write" in one_line(err)
    assert (theirs / "index.html").read_text() == "my page" and (theirs / "flaky" / "data.csv").exists()
    assert sorted(p.name for p in theirs.iterdir()) == ["flaky", "index.html"]


def test_scoreboard_readme_refuses_a_missing_reports_folder_or_readme(capfd, fixture_root, tmp_path):
    readme = tmp_path / "README.md"
    text = "intro\n<!-- scoreboard:start -->\n| a | table |\n<!-- scoreboard:end -->\n"
    readme.write_text(text)
    rc, _, err = run_cli(capfd, "scoreboard", "--readme", str(readme), "--out", str(tmp_path / "reprots"))
    assert rc == 2 and "reprots" in one_line(err)
    assert readme.read_text() == text
    empty = tmp_path / "empty"; empty.mkdir()
    rc, _, err = run_cli(capfd, "scoreboard", "--readme", str(readme), "--out", str(empty))
    assert rc == 2 and "no reports" in one_line(err) and readme.read_text() == text
    rc, _, err = run_cli(capfd, "scoreboard", "--readme", str(tmp_path / "READNE.md"), "--out", str(empty))
    assert rc == 2 and "READNE.md" in one_line(err)


# --- the index is honest while a run is under way, and after it was killed -----------------------------

def start(out, *params):
    "`specnb reproduce flaky` in its own process group (as a terminal runs it), sleeping in its next-to-last cell."
    (out / "flaky" / "metrics.json").unlink()             # so that `wait_running` sees this run's, not the last one's
    return subprocess.Popen([SPECNB, "reproduce", "flaky", *QUICK, "--out", str(out), "-p", "sleep", "60", *params],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_running(out, p, timeout=90):
    "Wait until the run has recorded its claim (the cell before the sleep)."
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            if "works" in json.loads((out / "flaky" / "metrics.json").read_text()).get("claims", {}): return
        except (OSError, ValueError): pass
        assert p.poll() is None, p.communicate()
        time.sleep(0.3)
    raise AssertionError("the run did not reach its sleep")


def test_ctrl_c_and_kill_leave_an_honest_index(capfd, fixture_root, tmp_path):
    out = tmp_path / "reports"
    rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK, "--out", str(out))
    assert rc == 0 and claims_rows(out)[0]["status"] == "ok", err

    p = start(out)                                        # Ctrl-C: the terminal signals the whole process group
    wait_running(out, p)
    assert [r["status"] for r in claims_rows(out)] == ["running"]    # written before the notebook ran
    os.killpg(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "Traceback" not in err and "ZMQError" not in err, err  # no kernel socket traceback
    assert [(r["claim"], r["status"]) for r in claims_rows(out)] == [("", "interrupted")]
    assert "interrupted" in (out / "index.html").read_text()
    assert not (out / ".specnb.lock").exists()

    p = start(out)                                        # `kill PID` (SIGTERM) is handled like Ctrl-C
    wait_running(out, p)
    os.kill(p.pid, signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130 and "Traceback" not in err, err
    assert [r["status"] for r in claims_rows(out)] == ["interrupted"]

    p = start(out)                                        # kill -9: nothing runs after it, so the index says "running"
    wait_running(out, p)
    os.killpg(p.pid, signal.SIGKILL); p.wait(timeout=30)
    rows = claims_rows(out)
    assert [(r["claim"], r["status"]) for r in rows] == [("", "running")], rows
    rc, stdout, err = run_cli(capfd, "list", "--out", str(out))      # ... and readers see that its process is gone
    assert rc == 0 and "interrupted" in [l for l in stdout.splitlines() if l.startswith("flaky")][0], stdout
    rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK, "--out", str(out))   # the dead run's lock is taken over
    assert rc == 0 and claims_rows(out)[0]["status"] == "ok", err


def test_a_second_run_into_the_same_folder_is_refused_naming_the_first(capfd, fixture_root, tmp_path):
    out = tmp_path / "reports"
    rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK, "--out", str(out))
    assert rc == 0, err
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = {"pid": holder.pid, "host": os.uname().nodename, "started_at": "2026-01-01T10:00:00+00:00",
                "command": "specnb reproduce --all"}
        (out / ".specnb.lock").write_text(json.dumps(lock))
        rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK, "--out", str(out))
        line = one_line(err)
        assert rc == 2 and f"pid {holder.pid}" in line and "2026-01-01T10:00:00" in line and "specnb reproduce --all" in line
        assert claims_rows(out)[0]["status"] == "ok"       # the first run's results are untouched
    finally:
        holder.kill(); holder.wait()
    rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK, "--out", str(out))  # its process is gone: stale lock
    assert rc == 0, err
    assert not (out / ".specnb.lock").exists()


# --- where reports go ------------------------------------------------------------------------------------

def test_reports_go_to_the_checkout_wherever_specnb_starts(capfd, fixture_root, monkeypatch):
    monkeypatch.chdir(fixture_root / "nbs" / "demo")
    rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK)
    assert rc == 0, err
    assert (fixture_root / "reports" / "flaky" / "metrics.json").exists()
    assert not (fixture_root / "nbs" / "demo" / "reports").exists()
    rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK, "--out", "reports")
    assert rc == 2 and "nbs" in one_line(err)
    assert not (fixture_root / "nbs" / "demo" / "reports").exists()


def test_a_corrupt_metrics_file_is_skipped_with_one_line(capfd, fixture_root, tmp_path):
    out = tmp_path / "reports"
    rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK, "--out", str(out))
    assert rc == 0, err
    (out / "broken").mkdir(); (out / "broken" / "metrics.json").write_text('{"meta": {"name": "bro')
    for argv in (["list"], ["scoreboard"], ["reproduce", "flaky", *QUICK]):
        rc, stdout, err = run_cli(capfd, *argv, "--out", str(out))
        assert rc == 0, err
        lines = [l for l in err.splitlines() if "broken" in l]
        assert len(lines) == 1 and str(out / "broken" / "metrics.json") in lines[0] and "Traceback" not in err, err
    assert "flaky" in stdout and claims_rows(out)[0]["status"] == "ok"


# --- one line and exit 2 for what cannot work ----------------------------------------------------------

def test_unusable_out_folders_are_one_line_errors(capfd, fixture_root, tmp_path, monkeypatch):
    afile = tmp_path / "afile"; afile.write_text("x")
    for out, why in ((afile, "is a file"), (afile / "sub", "is a file"), (Path("/proc/specnb-reports"), "/proc")):
        rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK, "--out", str(out))
        assert rc == 2 and why in one_line(err), err
    if os.geteuid() != 0:                                  # root may write anywhere: permissions say nothing then
        ro = tmp_path / "ro"; ro.mkdir(); ro.chmod(0o555)
        rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK, "--out", str(ro / "r"))
        assert rc == 2 and "permission" in one_line(err)
    def refuse(*a, **k): raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(Path, "mkdir", refuse)           # a folder the OS will not create, whoever we are
    rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK, "--out", str(tmp_path / "new"))
    assert rc == 2 and "Permission denied" in one_line(err)


def test_bench_bad_numbers_and_json_folder_fail_before_running(capfd, tmp_path):
    for argv, flag in ((["--n", "0"], "--n"), (["--max-new-tokens", "0"], "--max-new-tokens"), (["--gamma", "-1"], "--gamma")):
        rc, _, err = run_cli(capfd, "bench", *argv)
        assert rc == 2 and flag in one_line(err)
    t0 = time.perf_counter()
    rc, _, err = run_cli(capfd, "bench", "--n", "1", "--categories", "math", "--json", str(tmp_path))
    assert rc == 2 and "folder" in one_line(err)
    assert time.perf_counter() - t0 < 5                  # refused before any model was loaded or prompt decoded
    assert list(tmp_path.iterdir()) == []                # and no .tmp left behind


def test_parameters_out_of_their_declared_range_fail_before_running(capfd, fixture_root, tmp_path):
    from specnb.repro import find_notebooks, notebook_parameters
    ps = notebook_parameters(find_notebooks()["flaky"].path)
    assert ps["score"].range == (0, 10, True, True) and ps["n_steps"].range == (1, float("inf"), True, False)
    out = tmp_path / "reports"
    for key, value, says in (("score", "nan", "[0, 10]"), ("score", "11", "[0, 10]"), ("n_steps", "-5", "[1, inf)"),
                             ("n_steps", "0", "[1, inf)"), ("sleep", "inf", "[0, 600]"), ("out_dir", "/tmp/x", "--out")):
        rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK, "-p", key, value, "--out", str(out))
        assert rc == 2 and key in one_line(err) and says in err, (key, value, err)
    assert not out.exists()                              # refused before anything was written
    from specnb.repro import Param, check_value
    with pytest.raises(ValueError, match="finite"): check_value(float("nan"), Param("x", "float", 0.0))
    with pytest.raises(ValueError, match="finite"): check_value(float("-inf"), Param("x", "float", 0.0))
    assert check_value(float("inf"), Param("x", "float", 0.0, range=(0, float("inf"), True, True))) == float("inf")


def test_a_failed_runs_note_is_its_real_error_line(capfd, fixture_root, tmp_path):
    out = tmp_path / "reports"
    rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK, "-p", "fail", "true", "-p", "message", 'asked to fail:\n  "x"\n"',
                         "--out", str(out))
    assert rc == 1
    assert claims_rows(out)[0]["note"] == "ValueError: asked to fail:"
    rc, _, err = run_cli(capfd, "reproduce", "flaky", *QUICK, "-p", "sleep", "30", "--timeout", "2", "--out", str(out))
    assert rc == 1
    note = claims_rows(out)[0]["note"]
    assert note.startswith("CellTimeoutError: A cell timed out") and "---" not in note, note
    assert "ZMQError" not in err and "IPKernelApp" not in err, err    # the kernel's own stderr went to its log
    assert (out / "flaky" / "kernel.log").exists()


# --- §5: the scoreboard page and the HTML reports --------------------------------------------------------

def fake_report(out, name, family, status="ok", claims=None, png=None, error_line=""):
    "A report folder as `reproduce` leaves it."
    from specnb.core import write_json
    d = out / name; d.mkdir(parents=True)
    run = {"status": status, "profile": "cpu", "family": family, "title": f"The {name} paper", "wall_time_s": 12.5}
    if error_line: run.update(error="Traceback ...\n" + error_line, error_line=error_line)
    write_json(d / "metrics.json", {"meta": {"device_name": "CPU: test"}, "run": run, "claims": claims or {}})
    (d / f"{name}.html").write_text("<html>report</html>")
    if png: shutil.copy(png, d / "figure.png")
    write_json(d / ".specnb-report.json", {"status": status, "files": sorted(p.name for p in d.iterdir())})


def test_index_is_a_card_per_paper_in_family_sections(tmp_path):
    from specnb.repro import write_index
    import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(3, 2)); ax.plot([0, 1], [0, 1]); fig.savefig(tmp_path / "f.png"); plt.close(fig)
    out = tmp_path / "reports"
    fake_report(out, "alpha", "spec", claims={"speedup": {"paper": "2.5x", "measured": 1.7, "holds": True, "note": "small model"},
                                              "lossless": {"paper": "yes", "measured": "yes", "holds": False, "note": ""}},
                png=tmp_path / "f.png")
    fake_report(out, "beta", "dllm", status="failed", error_line="ValueError: boom")
    _, index = write_index(out)
    page = index.read_text()
    assert page.index('id="spec"') < page.index('id="dllm"')                 # families in the house order
    assert "speculative decoding" in page and "diffusion-LLM decoding" in page
    assert page.count("<article class=\"card") == 2 and "The alpha paper" in page and "The beta paper" in page
    assert 'src="alpha/figure.png"' in page and 'href="alpha/alpha.html"' in page
    assert "2.5x" in page and "1.7" in page and "small model" in page and "ValueError: boom" in page
    assert "https://" not in page                                             # nothing fetched from the internet


def test_html_report_renders_math_offline_and_folds_hidden_cells(capfd, fixture_root, tmp_path):
    out = tmp_path / "reports"
    rc, _, err = run_cli(capfd, "reproduce", "flaky", "--profile", "smoke", "--quiet", "-p", "plot", "true", "--out", str(out))
    assert rc == 0, err
    page = (out / "flaky" / "flaky.html").read_text()
    assert page.count("<math") == 2 and "\\frac" not in page.split("<math", 1)[1].split("</math>")[0]
    assert "$\\tau" not in page and "$$E" not in page and "$not math$" in page   # code spans keep their dollars
    assert "mathjax" not in page.lower() and "cdn" not in page.lower()
    hidden = page[page.index("<details"):]
    assert "hidden_test_value" in hidden[:hidden.index("</details>")]
    assert 'src="flaky/tau.png"' in (out / "index.html").read_text()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def screenshot(page: Path, png: Path, size="1280,900"):
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={size}",
                    f"--screenshot={png}", page.as_uri()], capture_output=True, timeout=120, check=True)
    import matplotlib.image
    img = matplotlib.image.imread(png)
    return img


@pytest.mark.skipif(CHROMIUM is None, reason="no headless chromium (apt-get install chromium)")
def test_scoreboard_and_report_in_a_real_browser(capfd, fixture_root, tmp_path):
    out = tmp_path / "reports"
    rc, _, err = run_cli(capfd, "reproduce", "flaky", "--profile", "smoke", "--quiet", "-p", "plot", "true", "--out", str(out))
    assert rc == 0, err
    keep = Path(os.environ.get("SPECNB_SCREENSHOTS", tmp_path))
    keep.mkdir(parents=True, exist_ok=True)
    for page, name in ((out / "index.html", "index.png"), (out / "flaky" / "flaky.html", "report.png")):
        img = screenshot(page, keep / name)
        assert img.shape[0] >= 800 and img.shape[1] >= 1200
        assert img[..., :3].std() > 0.05, f"{name} is blank"                # something was drawn


# --- every paper notebook declares the valid range of its numeric parameters ------------------------------

from specnb.repro import find_notebooks as _find  # noqa: E402

PAPERS = list(_find())


@pytest.mark.parametrize("name", PAPERS)
def test_numeric_parameters_declare_a_range_that_every_profile_respects(name):
    "`-p n_peer -5` must fail before the notebook runs: each int/float parameter's comment starts with its range."
    from specnb.repro import notebook_parameters, profiles, read_settings, resolve_params
    info = _find()[name]
    ps = notebook_parameters(info.path)
    bare = [p.name for p in ps.values() if p.type in ("int", "float") and p.range is None]
    assert not bare, f"{info.path.name}: start the comment of {bare} with its range, e.g. `# [0, inf) ...` or `# (0, 1] ...`"
    from specnb.repro import check_value
    for p in ps.values(): check_value(p.default, p, f" of notebook {name!r} (its default)")
    cfg = read_settings()
    for prof in profiles(cfg, _find()): resolve_params(info, prof, None, cfg)   # raises for a value out of range
