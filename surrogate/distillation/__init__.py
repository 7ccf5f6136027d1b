"""Distillation: a teacher (Model A) labels a transfer set (Data 2) for a student (Model B).

The stage after the models: Data 1 -> teacher -> transfer set -> student -> fidelity.
:func:`distill` ties it together and returns a :class:`Distillation`; the transfer-set
generators (:class:`SpaceGenerator`, :class:`MUNGE`, :class:`KDEGenerator`,
:class:`GMMGenerator`, :class:`DataGenerator`) share one protocol, ``fit(X)`` and
``sample(n, seed)`` (subclass :class:`TransferGenerator` for another). The teacher may be a
simulator, any fitted estimator or a plain function; the student any scikit-learn-compatible
estimator, our surrogates, or PRIM/CART boxes (used through their ``fit(X, y)``, so this
package does not import :mod:`surrogate.discovery`); :class:`PrunedTree` is a tree of a fixed
leaf budget made for large transfer sets.
"""

from surrogate.distillation._density import GMMGenerator, KDEGenerator
from surrogate.distillation._distill import TRANSFERS, Distillation, distill
from surrogate.distillation._fidelity import agreement, probability_gap, q2
from surrogate.distillation._generators import (
    MUNGE,
    DataGenerator,
    SpaceGenerator,
    TransferGenerator,
)
from surrogate.distillation._labels import tempered
from surrogate.distillation._tree import PrunedTree

__all__ = [
    "distill",
    "Distillation",
    "TRANSFERS",
    "TransferGenerator",
    "SpaceGenerator",
    "DataGenerator",
    "MUNGE",
    "KDEGenerator",
    "GMMGenerator",
    "PrunedTree",
    "agreement",
    "probability_gap",
    "q2",
    "tempered",
]
