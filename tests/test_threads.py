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


def test_every_numerical_step_of_a_design_round_and_a_field_fit_runs_under_the_policy(
        monkeypatch):
    # the acquisition search, the re-conditioning of the student, the field GP's SVDs, a
    # fit given by keyword and minimize_surrogate ran with the caller's threads
    from surrogate.models import FieldGPRegressor, GPRegressor
    from surrogate.sequential import _optimize_acqf

    seen = []

    def spy(owner, name):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            seen.append((name, torch.get_num_threads()))
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    spy(GPRegressor, "_condition")
    spy(_optimize_acqf.AcquisitionOptimizer, "maximize")
    spy(_optimize_acqf.AcquisitionOptimizer, "local_optima")
    spy(np.linalg, "svd")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        sg.set_threads(1)
        space = sg.Space([sg.Real("x", 0, 1), sg.Real("y", 0, 1)])
        sg.adaptive_sample(lambda p: p["x"] ** 2 + p["y"], space=space, budget=9, n_init=5,
                           seed=0, progress=False)
        X = sg.sample(space, 20, seed=0)
        gp = GPRegressor(seed=0).fit(X=X, y=X.x ** 2)
        sg.minimize_surrogate(gp, space, seed=0)
        FieldGPRegressor(seed=0).fit(X, np.outer(X.x, np.linspace(0, 1, 5)))
        assert torch.get_num_threads() == 2  # the caller's, restored
    finally:
        torch.set_num_threads(before)
    assert {name for name, _ in seen} == {"_condition", "maximize", "local_optima", "svd"}
    assert {threads for _, threads in seen} == {1}, seen


def test_a_cluster_of_threads_in_this_process_leaves_its_thread_settings_alone(monkeypatch):
    # LocalCluster(processes=False) ran the worker's limit_threads in the caller's process:
    # OMP_NUM_THREADS and the others set to 1 for good
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    space = sg.Space([sg.Real("x", 0, 1)])
    sim = sg.Simulator(lambda x: x, space, ["y"])
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        runs = sim.run(sg.sample(space, 4, seed=0), executor=sg.DaskExecutor(client),
                       progress=False)
    assert runs.ok.all()
    import os

    assert os.environ["OMP_NUM_THREADS"] == "2" and "MKL_NUM_THREADS" not in os.environ


LOADED_INSIDE = """
import surrogate as sg
from threadpoolctl import threadpool_info
from surrogate import _threads

def openmp():
    return sorted((i["filepath"], i["num_threads"]) for i in threadpool_info()
                  if i["user_api"] == "openmp")

sg.set_threads(1)
with _threads.limited(100):  # as REDS.fit, whose default metamodel imports the models
    import surrogate.models  # torch's and scikit-learn's OpenMP load here
    loaded = openmp()
    with _threads.limited(100):  # as the metamodel's own fit
        inside = openmp()
print(len(inside) > 0 and all(n == 1 for _, n in inside), openmp() == loaded, inside, loaded)
"""


def test_libraries_loaded_inside_a_limited_call_are_limited_by_the_next_call():
    """The first call's limit knew only the libraries loaded before it, and a nested call set
    none: scikit-learn's OpenMP, loaded when REDS.fit imports the models, kept its threads."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env["OMP_NUM_THREADS"] = "3"  # the libraries' own default above the limit, on any machine
    out = subprocess.run([sys.executable, "-c", LOADED_INSIDE], capture_output=True, text=True,
                         timeout=120, check=True, env=env).stdout
    assert out.startswith("True True"), out  # limited inside, their own settings after


OVERLAPPING_TORCH = """
import threading, time
import torch
from surrogate._threads import limits_threads
torch.set_num_threads(2)  # the user's own torch setting

class M:
    @limits_threads()
    def fit(self, X, hold):
        time.sleep(hold)
        return self

a = threading.Thread(target=lambda: M().fit([0] * 10, 0.3))
b = threading.Thread(target=lambda: M().fit([0] * 10, 0.6))
a.start(); time.sleep(0.1); b.start(); a.join(); b.join()  # A in, B in, A out, B out
seen = []
later = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
later.start(); later.join()
print(seen == [2], seen)
"""


def test_overlapping_calls_from_threads_restore_the_users_torch_setting(no_environment):
    """B, entering while A held the limit, read A's 1 thread as the user's setting and put it
    back last: every thread started afterwards ran torch on one thread."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", OVERLAPPING_TORCH], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert out.startswith("True"), out
