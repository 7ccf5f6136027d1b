"""scikit-learn's estimator contract (STYLE 9), run over every surrogate.

Every check applies and passes: none is skipped or expected to fail. (The four SKIPPED entries
pytest reports are scikit-learn's array-API checks, which it skips itself unless the
environment variable SCIPY_ARRAY_API is set; our models convert inputs to numpy/torch.)
Small settings keep the ~200 fits fast.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from surrogate.models import (
    AutoClassifier,
    AutoRegressor,
    GPClassifier,
    GPRegressor,
    NNClassifier,
    NNRegressor,
)

ESTIMATORS = [
    GPRegressor(seed=0, n_restarts=1),
    GPClassifier(seed=0, max_iter=20, n_inducing=32),
    NNRegressor(seed=0, n_ensemble=2, max_epochs=20, hidden_layers=(16,)),
    NNClassifier(seed=0, n_ensemble=2, max_epochs=20, hidden_layers=(16,)),
    AutoClassifier(candidates=["hgb", "ensemble"], cv=2, seed=0),
    AutoRegressor(candidates=["hgb"], cv=2, seed=0),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_contract(estimator, check):
    check(estimator)
