"""Optimal aspect ratio (effective-theory.md §8; D10)."""

import numpy as np
import pytest

from dltheory.effective.aspect_ratio import information_proxy, optimal_aspect_ratio, optimal_aspect_ratio_from_nu
from dltheory.errors import DLTheoryError


def test_spec_values():
    assert [round(optimal_aspect_ratio("relu", n), 4) for n in (1, 3)] == [0.0348, 0.0276]
    assert round(optimal_aspect_ratio("relu", 10), 3) == 0.016
    assert [round(optimal_aspect_ratio("tanh", n), 3) for n in (1, 3)] == [0.261, 0.207]
    assert round(optimal_aspect_ratio("tanh", 10), 2) == 0.12
    assert optimal_aspect_ratio("relu", 1, gamma=0.9) > 5 * optimal_aspect_ratio("relu", 1)


def test_information_proxy_peaks_at_r_star():
    nu = 5.0
    r = np.linspace(1e-4, 0.1, 20001)
    assert r[np.argmax(information_proxy(r, nu, 3))] == pytest.approx(optimal_aspect_ratio_from_nu(nu, 3), abs=1e-5)


@pytest.mark.parametrize("kwargs", [{"nu": 0.0}, {"nu": 1.0, "n_out": 0}, {"nu": -1.0}])
def test_bad_input(kwargs):
    with pytest.raises(DLTheoryError):
        optimal_aspect_ratio_from_nu(**kwargs)
    with pytest.raises(DLTheoryError):
        optimal_aspect_ratio("sigmoid")
