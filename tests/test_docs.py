"""The documentation site builds with warnings as errors, and the Python examples on its pages run.

The build (``python -m mkdocs build --strict``) needs the ``docs`` dependencies, which the ``test``
extra installs. Without them these tests are skipped locally, but fail under CI (``CI`` set), so a
broken docs build cannot pass unnoticed there.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
HOOKS = DOCS / "_hooks" / "build_hooks.py"
DOCS_MODULES = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "pymdownx")

KEY_PAGES = [
    "index.html",
    "theory/effective/index.html",
    "theory/richness/index.html",
    "theory/neurashed/index.html",
    "theory/weight-space/index.html",
    "verdicts/index.html",
    "experiments/index.html",
    "scaling-out/index.html",
    "extending/index.html",
    "api/index.html",
    "api/effective/index.html",
    "api/nets/index.html",
    "api/lab/index.html",
]


def _missing_docs_modules() -> list[str]:
    missing = []
    for name in DOCS_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(name)
    return missing


def _require_docs_tools() -> None:
    missing = _missing_docs_modules()
    if missing:
        message = f"documentation tools not installed ({', '.join(missing)}); pip install -e '.[docs]'"
        if os.environ.get("CI"):
            pytest.fail(f"{message} — required under CI")
        pytest.skip(message)


def _hooks_module():
    spec = importlib.util.spec_from_file_location("dltheory_docs_build_hooks", HOOKS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built once into a temporary directory, strict, with no network."""
    _require_docs_tools()
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           # any attempt to fetch over HTTP(S) during the build fails fast: the build must be offline
           "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
           "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
    env.pop("DLTHEORY_EXTRA_EXPERIMENTS", None)  # document the package's own experiments only
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    log = (proc.stdout + proc.stderr)[-6000:]
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{log}"
    assert "WARNING" not in proc.stderr, log
    return out


def test_site_builds_strict_with_key_pages(site: Path) -> None:
    for page in KEY_PAGES:
        assert (site / page).is_file(), f"missing page {page}"
    html = (site / "theory" / "effective" / "index.html").read_text(encoding="utf-8")
    assert 'class="arithmatex"' in html, "math is not marked up for MathJax"
    # cross-references from the theory pages resolve to the API reference
    assert 'href="../../api/effective/#dltheory.effective.kernels.kernel_recursion"' in html


def test_experiments_page_lists_every_registered_experiment(site: Path) -> None:
    from dltheory.experiments import all_experiments

    html = (site / "experiments" / "index.html").read_text(encoding="utf-8")
    names = [e.name for e in all_experiments().values()
             if e.config_cls.__module__.startswith("dltheory.experiments.")]
    assert names
    for name in names:
        assert f'id="{name}"' in html, f"experiment {name} missing from the experiments page"


def test_api_reference_has_a_page_per_public_subpackage(site: Path) -> None:
    package = ROOT / "src" / "dltheory"
    public = [p.name for p in package.iterdir()
              if p.is_dir() and (p / "__init__.py").is_file() and not p.name.startswith("_")]
    assert "effective" in public
    for name in public:
        assert (site / "api" / name / "index.html").is_file(), f"no API page for dltheory.{name}"
    nets = (site / "api" / "nets" / "index.html").read_text(encoding="utf-8")
    assert 'id="dltheory.nets.random_mlp.sample_random_mlps"' in nets


def test_experiments_page_reads_committed_results(tmp_path: Path) -> None:
    _require_docs_tools()
    hooks = _hooks_module()
    package = ROOT / "src" / "dltheory"
    empty = hooks.experiments_page(tmp_path / "absent", package)
    assert "No results table is committed yet" in empty and "### `criticality`" in empty

    results = tmp_path / "results"
    results.mkdir()
    (results / "full.csv").write_text(
        "experiment,claim,verdict,measured,target,delta,se,scale,wall_time_s\n"
        "criticality,gelu-critical-point,pass,1.98306,1.98306,0.01,0.0001,full,12.5\n"
        "criticality,relu-nu,inconclusive,5.2,5.0,0.25,0.4,full,12.5\n",
        encoding="utf-8")
    page = hooks.experiments_page(results, package)
    assert "`gelu-critical-point`" in page and "inconclusive" in page
    assert "1 pass, 1 inconclusive" in page and "12 s" in page


def _python_blocks() -> list[tuple[str, str]]:
    blocks = []
    for path in sorted(DOCS.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE):
            line = text[: match.start()].count("\n") + 1
            blocks.append((f"{path.relative_to(DOCS)}:{line}", match.group(1)))
    return blocks


@pytest.mark.parametrize("where,code", _python_blocks(), ids=[w for w, _ in _python_blocks()])
def test_doc_example_runs(where: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``python`` block of the docs is self-contained and runs (in a scratch directory)."""
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DLTHEORY_EXTRA_EXPERIMENTS", raising=False)
    module = types.ModuleType("__docs_example__")  # a real module, as a reader's script is (dataclasses need it)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(code, where, "exec", dont_inherit=True), module.__dict__)  # noqa: S102 - our own docs
