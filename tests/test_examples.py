"""The examples run end to end at tiny size (STYLE 22): one script per user story.

Those that write files are given ``--out`` in the test's own folder, so a test run leaves nothing
in the system's temporary folder."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "script, args, expect",
    [
        ("quickstart.py", ["--n", "20"], "transfer set saved in"),
        # the others are marked slow: CI's documentation build runs every example too
        pytest.param("teacher.py", ["--n", "30", "--test", "20"],
                     "peak_predators: cross-validated Q2", marks=pytest.mark.slow),
        pytest.param("teacher_dask.py", ["--n", "16"], "peak_predators: cross-validated Q2",
                     marks=pytest.mark.slow),
        pytest.param("optimize.py", ["--budget", "15", "--n", "20"], "the teacher confirms",
                     marks=pytest.mark.slow),
        pytest.param("discover.py", ["--n", "120", "--test", "300", "--samples", "2000"],
                     "REDS: stable when", marks=pytest.mark.slow),
        pytest.param("distill.py", ["--n", "120", "--transfer", "2000", "--test", "300"],
                     "taught by the GP", marks=pytest.mark.slow),
        pytest.param("trajectories.py", ["--n", "24", "--test", "30"], "PRIM: max(I) > 0.2 when",
                     marks=pytest.mark.slow),
        pytest.param("adaptive.py", ["--budget", "20"], "adaptive: ", marks=pytest.mark.slow),
        pytest.param("mixed_inputs.py", ["--n", "40"], "levels of the categorical input",
                     marks=pytest.mark.slow),
    ],
)
def test_example_runs(tmp_path, script, args, expect):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    path = ROOT / "examples" / script
    if "--out" in path.read_text():
        args = [*args, "--out", str(tmp_path / "out")]
    result = subprocess.run([sys.executable, str(path), *args], cwd=tmp_path,
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert expect in result.stdout
