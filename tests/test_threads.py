"""The driver's thread policy: what each setting resolves to, and that limits are applied to the
real BLAS/OpenMP/torch thread pools inside the block and restored after it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info

import surrogate as sg
from surrogate import _threads

VARIABLES = ("SURROGATE_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
             "MKL_NUM_THREADS")


@pytest.fixture(autouse=True)
def _restore_setting():
    before = sg.get_threads()
    yield
    sg.set_threads(before)


@pytest.fixture
def no_environment(monkeypatch):
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def test_auto_runs_small_problems_on_one_thread_and_leaves_large_ones(no_environment):
    sg.set_threads("auto")
    assert _threads.resolve(200) == 1
    assert _threads.resolve(_threads.SMALL) is None


def test_environment_is_honoured_in_auto(monkeypatch, no_environment):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert _threads.resolve(200) == 3
    monkeypatch.setenv("SURROGATE_NUM_THREADS", "2")  # ours first
    assert _threads.resolve(10**6) == 2
    monkeypatch.setenv("SURROGATE_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="SURROGATE_NUM_THREADS"):
        _threads.resolve(10)


def test_an_openmp_list_is_read_by_its_first_level(monkeypatch, no_environment):
    """OMP_NUM_THREADS="2,1" (a thread count per nesting level, valid OpenMP) failed every
    fit and predict: "must be a whole number of threads"."""
    monkeypatch.setenv("OMP_NUM_THREADS", "2,1")
    assert _threads.resolve(200) == 2


OVERLAPPING = """
import threading, time
import numpy
from threadpoolctl import threadpool_info, threadpool_limits
from surrogate._threads import limits_threads
threadpool_limits(2)  # the user's own BLAS setting

class M:
    @limits_threads()
    def fit(self, X, hold):
        time.sleep(hold)
        return self

def blas():
    return sorted((i["internal_api"], i["num_threads"]) for i in threadpool_info()
                  if i["user_api"] == "blas")

M().fit([0] * 10, 0)
before = blas()
a = threading.Thread(target=lambda: M().fit([0] * 10, 0.3))
b = threading.Thread(target=lambda: M().fit([0] * 10, 0.6))
a.start(); time.sleep(0.1); b.start(); a.join(); b.join()  # A in, B in, A out, B out
print(before == blas(), before, blas())
"""


def test_overlapping_calls_from_threads_restore_the_users_blas_setting(no_environment):
    """Each call saved and restored the process's BLAS setting: the last to leave put back
    the limit another had set, and the user's own NumPy stayed on one thread."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", OVERLAPPING], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.startswith("True"), out


def test_explicit_setting_wins_over_environment(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    sg.set_threads(2)
    assert _threads.resolve(10) == 2
    sg.set_threads(None)
    assert _threads.resolve(10) is None


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "all"])
def test_bad_settings_name_what_is_allowed(bad):
    with pytest.raises(ValueError, match="threads must be an int >= 1, 'auto' or None"):
        sg.set_threads(bad)


def test_limits_apply_inside_the_block_and_are_restored():
    np.ones((2, 2)) @ np.ones((2, 2))  # BLAS loaded
    torch.set_num_threads(2)
    blas_before = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    sg.set_threads(1)
    with _threads.limited(100):
        assert torch.get_num_threads() == 1
        assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
    assert torch.get_num_threads() == 2
    assert [p["num_threads"] for p in threadpool_info()
            if p["user_api"] == "blas"] == blas_before


def test_threads_context_restores_the_previous_setting():
    sg.set_threads("auto")
    with sg.threads(3):
        assert sg.get_threads() == 3
    assert sg.get_threads() == "auto"


def test_decorated_method_runs_under_the_policy(no_environment):
    class Model:
        @_threads.limits_threads()
        def fit(self, X):
            return torch.get_num_threads()

    torch.set_num_threads(2)
    sg.set_threads("auto")
    assert Model().fit(np.zeros((50, 2))) == 1
    assert Model().fit(np.zeros((_threads.SMALL, 1))) == 2
    assert torch.get_num_threads() == 2
