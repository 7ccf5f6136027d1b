"""surrogate: turn slow simulations into fast, trustworthy models and readable rules.

The pipeline: space -> design -> teacher (executors) -> transfer set -> surrogates -> uses
(optimization, sensitivity, scenario discovery) -> plots, report, command line.
"""

from surrogate._version import __version__
from surrogate.data import TransferSet
from surrogate.design import sample
from surrogate.execute import DaskExecutor, Executor, ProcessExecutor, SerialExecutor
from surrogate.space import Categorical, Integer, Real, Space
from surrogate.teacher import SimulationError, Simulator, simulator

__all__ = [
    "__version__",
    # space and design
    "Real", "Integer", "Categorical", "Space", "sample",
    # teacher and executors
    "Simulator", "simulator", "SimulationError",
    "Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor",
    # data
    "TransferSet",
]
