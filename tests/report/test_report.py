"""The HTML report renders every saved run with its claims, figures and provenance."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from dltheory.errors import DLTheoryError
from dltheory.lab import run_experiment
from dltheory.report import build_report
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
    assert "mean-zero" in html and "|mean|/SE" in html and "Configuration and provenance" in html
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
