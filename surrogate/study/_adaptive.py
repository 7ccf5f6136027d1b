"""An adaptive design in the study (``[design] method = "adaptive"``): the runs chosen round by
round by :func:`surrogate.sequential.adaptive_sample`, checkpointed in ``runs/`` so that a rerun
resumes, with its learning curve and where the runs went."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from surrogate._checks import number_text
from surrogate._config import StudyConfig
from surrogate.study._core import Study, stage_runner
from surrogate.study._json import _frame_records, _jsonable
from surrogate.teacher import Simulator

__all__ = ["adaptive_runs", "adaptive_record"]


def adaptive_runs(config: StudyConfig, simulator: Simulator, directory: Path,
                  progress: bool | None) -> Any:
    """Run the adaptive design; the :class:`~surrogate.sequential.AdaptiveResult`."""
    from surrogate.sequential import adaptive_sample

    output, threshold = adaptive_case(config)
    assert config.adaptive_budget is not None  # the config requires it for method = "adaptive"
    runner, owned = stage_runner(config)
    try:
        result = adaptive_sample(
            simulator, budget=config.adaptive_budget, goal=config.adaptive_goal, output=output,
            threshold=threshold, target=config.adaptive_target, executor=runner,
            checkpoint=directory / "runs", seed=config.seed, progress=progress,
            timeout=config.timeout, retries=config.retries)
    finally:
        if owned:
            runner.close()
    # beside the rounds' checkpoints, the runs as one transfer set: what `surrogate discover
    # DIR/runs` and TransferSet.load read, as for any other design
    result.runs.save(directory / "runs")
    return result


def adaptive_case(config: StudyConfig) -> tuple[str | None, tuple[str, float] | None]:
    """The modelled output and, for a boundary, the case of interest (``[design] threshold``
    or else ``[discover] outcome``)."""
    if config.adaptive_goal != "boundary":
        return config.adaptive_output, None
    if config.adaptive_threshold is not None:
        return config.adaptive_output, config.adaptive_threshold
    outcome = config.outcome
    assert outcome is not None  # checked with the configuration
    return outcome.output, (outcome.op, outcome.value)


def round_of_run(result: Any) -> np.ndarray:
    """The round in which each run was asked for (0: the initial design)."""
    n_runs = result.history["n_runs"].to_numpy()
    rounds = result.history["round"].to_numpy()
    index = np.searchsorted(n_runs, np.arange(1, len(result.runs) + 1))
    return rounds[np.minimum(index, len(rounds) - 1)]


def adaptive_record(study: Study, result: Any) -> None:
    """The design's summary (``summary["design"]``) and its figures: the learning curve and a
    scatter matrix of the runs coloured by round."""
    from surrogate.plot import design_pairs, learning_curve

    config = study.config
    rounds = round_of_run(result)
    output, threshold = adaptive_case(config)
    study.summary["design"] = _jsonable({
        "method": "adaptive", "goal": result.goal, "budget": config.adaptive_budget,
        "target": result.target, "stopped": result.stopped, "outputs": result.outputs,
        "threshold": None if threshold is None else (
            f"{output or result.outputs[0]} {threshold[0]} {number_text(threshold[1])}"),
        "fidelity": result.fidelity, "history": _frame_records(result.history),
        "round_of_run": rounds.tolist(),
    })
    if result.fidelity is not None and result.fidelity in result.history:
        caveat = ("; for a field, leave-one-out with the basis and hyperparameters of all "
                  "the runs: it reads high with few runs, see the cross-validated Q²"
                  if result.goal == "accuracy" and set(result.outputs) & set(result.runs.fields)
                  else "")
        study.add_figure(f"Learning curve: adaptive design ({result.goal}{caveat})",
                         learning_curve(result).figure)
    axes = design_pairs(result.runs, rounds, label="round")  # its space: log axes, levels
    study.add_figure("Where the runs went: design coloured by round",
                     axes[0, 0].figure)
