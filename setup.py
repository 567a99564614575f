"""Build hook: the wheel carries what `specnb` needs besides its code (issue 11 §2).

The repository's top-level `nbs/`, `settings.ini` and `data/` stay the source; building a wheel copies them into
`specnb/_shipped/`, which `specnb.core.shipped_root()` finds when specnb is installed outside a checkout.
Everything else about the package is declared in pyproject.toml.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = ["nbs", "settings.ini", "data/zoo", "data/bench", "data/corpora"]
SKIP = shutil.ignore_patterns("_*", ".*", "__pycache__", "*.pyc", "reports")   # scratch: nbs/_runs, data/zoo/_work, checkpoints


class build_py_shipped(build_py):
    "build_py that also copies the notebooks, run profiles and shipped data into the package."
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False): return        # an editable install reads the checkout itself
        dest = Path(self.build_lib) / "specnb" / "_shipped"
        shutil.rmtree(dest, ignore_errors=True)
        for rel in SHIPPED:
            src, out = HERE / rel, dest / rel
            if src.is_dir(): shutil.copytree(src, out, ignore=SKIP)
            elif src.is_file(): out.parent.mkdir(parents=True, exist_ok=True); shutil.copy2(src, out)
            else: raise SystemExit(f"setup.py: {src} is missing; build the wheel from a full specnb checkout")


setup(cmdclass={"build_py": build_py_shipped})
