"""The HTML report renders every saved run with its claims, figures and provenance; it verifies what it
reads, never reads outside a run directory, and never writes through a planted link."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from html.parser import HTMLParser

import pytest

from dltheory.errors import DLTheoryError
from dltheory.lab import run_experiment
from dltheory.lab.runner import make_task, run_sweep
from dltheory.lab.store import canonical_checksum, temp_path
from dltheory.report import build_report
from tests.experiments.toys import EXPERIMENTS
from tests.lab.test_framework import TOY


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.hrefs, self.imgs, self.stack = set(), [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            assert a["id"] not in self.ids, f"duplicate id {a['id']}"
            self.ids.add(a["id"])
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        if tag == "img":
            self.imgs.append(a["src"])


def test_report_is_self_contained_and_links_resolve(tmp_path):
    run_experiment(TOY, out_dir=tmp_path, seed=2)
    path = build_report(tmp_path)
    html = path.read_text()
    parser = _Collector()
    parser.feed(html)
    assert "mean-zero" in html and "sample mean" in html and "Configuration and provenance" in html
    assert "1 PASS" in html and "Failing and inconclusive claims" in html and "provenance-table" in html
    assert parser.imgs and all(src.startswith("data:image/png;base64,") for src in parser.imgs)
    for href in parser.hrefs:
        assert href.startswith("#") and href[1:] in parser.ids, href


def test_report_shows_errored_experiments(tmp_path):
    from dltheory.lab import Experiment

    def broken(config, rng):
        raise RuntimeError("kaboom")

    run_experiment(Experiment("broken", "effective", "Broken", "", TOY.config_cls, broken), out_dir=tmp_path,
                   catch_errors=True)
    html = build_report(tmp_path).read_text()
    assert "kaboom" in html and "failed to run" in html


def test_report_without_results_is_a_clear_error(tmp_path):
    with pytest.raises(DLTheoryError, match="no experiment results"):
        build_report(tmp_path)
    with pytest.raises(DLTheoryError, match="does not exist"):
        build_report(tmp_path / "missing")


# -- verification and confined reading (issue 13 items 2 and 3) ----------------------------------------
def _published(tmp_path, n):
    tasks = [make_task(e, seed=0, overrides={"sleep_s": 0.0, "n": 50, "n_chunks": 2}) for e in EXPERIMENTS[:n]]
    return run_sweep(tasks, out_dir=tmp_path)


def _edit(meta_path, change, recompute=False):
    meta = json.loads(meta_path.read_text())
    change(meta)
    if recompute:
        meta["checksum"] = canonical_checksum(meta)
    meta_path.write_text(json.dumps(meta))


def _invalid_names(html):
    start = html.index('id="invalid-results"')
    return html[start:html.index("</span>", start)]


def test_report_marks_every_tampered_published_run_invalid(tmp_path):
    _published(tmp_path, 6)
    _edit(tmp_path / "toy-a" / "meta.json", lambda m: m["claims"][0].update(measured=123.0, verdict="fail"))
    _edit(tmp_path / "toy-b" / "meta.json", lambda m: m.update(seed=17))
    parquet = tmp_path / "toy-c" / "table.parquet"
    parquet.write_bytes(parquet.read_bytes()[: len(parquet.read_bytes()) // 2])
    (tmp_path / "toy-d" / "chunk_means.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"junk" * 100)
    (tmp_path / "toy-e" / "meta.json").write_text("{\"name\": \"toy-e\", ")
    # hidden and temporary directories: copies of a valid run that must not appear as experiments
    shutil.copytree(tmp_path / "toy-f", tmp_path / ".toy-f~new~host~1~0badc0de.tmp")
    shutil.copytree(tmp_path / "toy-f", tmp_path / ".toy-f")
    html = build_report(tmp_path).read_text()
    invalid = _invalid_names(html)
    assert "5 with invalid results" in invalid
    for name in ("toy-a", "toy-b", "toy-c", "toy-d", "toy-e"):
        assert name in invalid  # 0 undetected
    assert "toy-f" not in invalid and html.count('<section id="toy-f">') == 1
    assert html.count("results invalid:") == 5 and html.count("failed verification and are not shown") == 5
    invalid_badges = html.count('<span class="badge fail">invalid</span>')
    assert invalid_badges == 5
    # only toy-f's claim is rendered (summary and section)
    assert html.count('class="badge pass"') + html.count('class="badge fail"') - invalid_badges == 2
    assert "123" not in html  # the edited claim is not rendered


def _secret(tmp_path):
    secret = tmp_path.parent / f"{tmp_path.name}-secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\nTOP-SECRET" * 20)
    return secret


def test_a_crafted_results_directory_cannot_leak_files_into_the_report(tmp_path):
    secret = _secret(tmp_path)
    data = secret.read_bytes()
    listing = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    _published(tmp_path, 5)
    # a symlinked PNG, with meta.json crafted to match the linked file (checksum recomputed)
    png = tmp_path / "toy-a" / "chunk_means.png"
    png.unlink()
    png.symlink_to(secret)
    _edit(tmp_path / "toy-a" / "meta.json", lambda m: m["files"].update({"chunk_means.png": listing}), recompute=True)
    # figure names that leave the run directory, listed with matching hashes
    rel = os.path.relpath(secret.with_suffix(""), tmp_path / "toy-b")
    _edit(tmp_path / "toy-b" / "meta.json", lambda m: (m.update(figures=[rel]), m["files"].update({rel + ".png": listing})),
          recompute=True)
    _edit(tmp_path / "toy-c" / "meta.json",
          lambda m: (m.update(figures=[str(secret.with_suffix(""))]), m["files"].update({str(secret): listing})),
          recompute=True)
    _edit(tmp_path / "toy-d" / "meta.json", lambda m: m.update(figures=["../toy-e/chunk_means"]), recompute=True)
    # the experiment directory itself a link to somewhere else
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    shutil.copytree(tmp_path / "toy-e", elsewhere)
    shutil.rmtree(tmp_path / "toy-e")
    (tmp_path / "toy-e").symlink_to(elsewhere, target_is_directory=True)
    html = build_report(tmp_path).read_text()
    assert base64.b64encode(data).decode() not in html and "TOP-SECRET" not in html
    invalid = _invalid_names(html)
    assert all(name in invalid for name in ("toy-a", "toy-b", "toy-c", "toy-d", "toy-e"))
    assert "symbolic link" in html and "not a plain file name" in html


def test_the_report_is_never_written_through_a_planted_link(tmp_path, monkeypatch):
    import secrets as secrets_module

    _published(tmp_path, 1)
    victim = tmp_path.parent / f"{tmp_path.name}-victim.txt"
    victim.write_text("precious")
    (tmp_path / "report.html.tmp").symlink_to(victim)  # the old, predictable temporary name
    assert build_report(tmp_path).read_text().startswith("<!DOCTYPE html>")
    assert victim.read_text() == "precious"
    # even a link planted at the exact (here: forced predictable) temporary name is not followed
    monkeypatch.setattr(secrets_module, "token_hex", lambda n=None: "deadbeef")
    planted = temp_path(tmp_path / "report.html")  # the name the report will try
    planted.symlink_to(victim)
    with pytest.raises(DLTheoryError, match="cannot write the report"):
        build_report(tmp_path)
    assert victim.read_text() == "precious" and planted.is_symlink()
    monkeypatch.undo()
    # a link at the report's own path is replaced, not written through
    (tmp_path / "report.html").unlink()
    (tmp_path / "report.html").symlink_to(victim)
    build_report(tmp_path)
    assert victim.read_text() == "precious" and not (tmp_path / "report.html").is_symlink()
