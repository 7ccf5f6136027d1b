"""Neural-network surrogates: deep ensembles of MLPs for regression and classification.

Stage "models" of the pipeline. Categorical inputs are one-hot encoded inside (their levels
recorded at fit, see :mod:`surrogate.models._inputs`); inputs and (for regression) outputs are
standardized; the ensemble's spread gives the predictive standard deviation. Training lives in
:mod:`surrogate.models._ensemble`.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import type_of_target

from surrogate._threads import fitted_size, limits_threads
from surrogate.models._base import (
    BinaryClassifierMixin,
    MultiOutputMixin,
    Q2ScoreMixin,
    SurrogateMixin,
    check_choice,
    check_flag,
    check_positive_float,
    check_positive_int,
    column_scale,
    torch_generator,
)
from surrogate.models._ensemble import ACTIVATIONS, EnsembleMLP, train_ensemble
from surrogate.models._inputs import one_hot
from surrogate.models._weights import check_sample_weight, points_to_learn

__all__ = ["NNRegressor", "NNClassifier"]

NN_DTYPE = torch.float32
FAR_INPUT = 1e6  # standardized inputs are clipped to +-FAR_INPUT at prediction
PREDICT_CHUNK = 65_536


class _NNBase(SurrogateMixin, BaseEstimator):
    """Options and training shared by the two ensembles."""

    def __init__(self, *, hidden_layers: tuple[int, ...] = (64, 64), n_ensemble: int = 5,
                 activation: str = "silu", learning_rate: float = 3e-3,
                 weight_decay: float = 0.0, batch_size: int = 64, max_epochs: int = 500,
                 patience: int = 30, validation_fraction: float = 0.15, seed: Any = None,
                 device: str = "cpu") -> None:
        self.hidden_layers = hidden_layers
        self.n_ensemble = n_ensemble
        self.activation = activation
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.seed = seed
        self.device = device

    def _check_params(self) -> None:
        self._check_common()
        layers = self.hidden_layers
        if not isinstance(layers, tuple | list) or not all(
                isinstance(h, int | np.integer) and not isinstance(h, bool) and h > 0
                for h in layers):
            raise ValueError(f"hidden_layers must be a tuple of positive ints, got {layers!r}")
        check_positive_int("n_ensemble", self.n_ensemble)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_positive_float("learning_rate", self.learning_rate)
        if isinstance(self.weight_decay, bool) \
                or not isinstance(self.weight_decay, numbers.Real) \
                or not 0 <= float(self.weight_decay) < float("inf"):  # numpy numbers too
            raise ValueError(f"weight_decay must be a float >= 0, got {self.weight_decay!r}")
        check_positive_int("batch_size", self.batch_size)
        check_positive_int("max_epochs", self.max_epochs)
        check_positive_int("patience", self.patience)
        check_positive_float("validation_fraction", self.validation_fraction, upper=1.0)

    def _train(self, X: np.ndarray, T: np.ndarray, loss_fn: Any,
               n_out: int | None = None) -> np.ndarray:
        """Train the ensemble on targets ``T`` (n, n_out, or more columns that ``loss_fn``
        reads, with ``n_out`` the network's outputs); return the rows each member held out."""
        X = one_hot(X, self._column_levels())
        rng = self._rng()
        gen = torch_generator(rng)
        self._x_mean = X.mean(axis=0)
        self._x_std = column_scale(X)
        Xs = torch.as_tensor((X - self._x_mean) / self._x_std, dtype=NN_DTYPE)
        Ts = torch.as_tensor(T, dtype=NN_DTYPE)
        sizes = [X.shape[1], *map(int, self.hidden_layers), T.shape[1] if n_out is None else n_out]
        net = EnsembleMLP(self.n_ensemble, sizes, self.activation, gen, NN_DTYPE)
        dev = self._device
        self.best_epochs_, held_out = train_ensemble(
            net.to(dev), Xs.to(dev), Ts.to(dev), loss_fn, rng=rng, generator=gen,
            validation_fraction=self.validation_fraction, batch_size=self.batch_size,
            max_epochs=self.max_epochs, patience=self.patience,
            learning_rate=self.learning_rate, weight_decay=self.weight_decay)
        self._net = net.eval()
        return held_out

    def _members(self, X: np.ndarray) -> np.ndarray:
        """Raw member outputs (E, n, n_out) on inputs in original units."""
        X = one_hot(X, self._column_levels())
        # a point a million standard deviations out predicts as one there: in float32 a
        # standardized input past 3e38 is inf, and the network's output NaN
        Z = np.clip((X - self._x_mean) / self._x_std, -FAR_INPUT, FAR_INPUT)
        Xs = torch.as_tensor(Z, dtype=NN_DTYPE, device=self._device)
        out = np.empty((self.n_ensemble, len(Xs), self._n_out))  # sized once (see GPRegressor)
        with torch.no_grad():
            for start in range(0, len(Xs), PREDICT_CHUNK):
                out[:, start:start + PREDICT_CHUNK] = \
                    self._net(Xs[start:start + PREDICT_CHUNK]).double().cpu().numpy()
        return out

    # persistence hooks
    def _state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        meta = {"x_mean": self._x_mean.tolist(), "x_std": self._x_std.tolist(),
                "n_out": self._n_out, "best_epochs_": list(self.best_epochs_)}
        meta.update(self._extra_state())
        tensors = {f"net.{k}": v.detach().cpu() for k, v in self._net.state_dict().items()}
        return meta, tensors

    def _from_state(self, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        self._x_mean = np.asarray(meta["x_mean"], dtype=np.float64)
        self._x_std = np.asarray(meta["x_std"], dtype=np.float64)
        self._n_out = int(meta["n_out"])
        self.best_epochs_ = list(meta["best_epochs_"])
        sizes = [len(self._x_mean), *map(int, self.hidden_layers), self._n_out]
        net = EnsembleMLP(self.n_ensemble, sizes, self.activation, torch.Generator(), NN_DTYPE)
        net.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
        self._net = net.to(self._device).eval()
        self._load_extra_state(meta)


class NNRegressor(MultiOutputMixin, Q2ScoreMixin, RegressorMixin, _NNBase):
    """Deep-ensemble MLP regressor with early stopping; std from the ensemble spread.

    Parameters
    ----------
    hidden_layers : tuple of int, default=(64, 64)
        Widths of the hidden layers.
    n_ensemble : int, default=5
        Members, each with its own initialization and train/validation split. The standard
        deviation is their spread (a regressor's scaled by ``std_scale_``): with one member it
        is NaN, with a warning.
    activation : {"silu", "relu", "tanh"}, default="silu"
    learning_rate : float, default=3e-3
        Adam step size.
    weight_decay : float, default=0.0
    batch_size : int, default=64
    max_epochs : int, default=500
    patience : int, default=30
        Epochs without improvement of a member's validation loss before it stops improving.
        Training stops once every member has stopped, and not before 1,000 optimizer steps
        (or ``max_epochs``): with few rows an epoch is one or two steps.
    validation_fraction : float, default=0.15
        Share of the points each member holds out for early stopping.
    seed : int, numpy.random.Generator or None
    device : str, default="cpu"

    Attributes
    ----------
    n_outputs_ : int
    categories_ : dict
        The categorical inputs (one-hot encoded inside) and their levels.
    best_epochs_ : list of int
        The epoch whose weights each member kept.
    std_scale_ : ndarray of shape (n_outputs,)
        Regressor only: the factor (>= 1) the members' spread is multiplied by in
        ``predict(..., return_std=True)``, so that 95 % of each member's errors on the rows it
        held out lie within 1.96 standard deviations (1 with fewer than 5 rows).
    n_features_in_, feature_names_in_
    data_min_, data_max_ : ndarray of shape (n_features,)
        The training inputs' range per column (uses of the model warn when they leave it;
        NaN for a categorical one).
    n_samples_fit_ : int

    References
    ----------
    Lakshminarayanan, Pritzel & Blundell (2017), Simple and scalable predictive uncertainty
    estimation using deep ensembles, NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((200, 2))
    >>> nn = NNRegressor(n_ensemble=2, max_epochs=200, seed=0).fit(X, X.sum(axis=1))
    >>> bool(nn.score(X, X.sum(axis=1)) > 0.95)
    True
    """

    @limits_threads()
    def fit(self, X: Any, y: Any) -> NNRegressor:
        """Fit the ensemble to ``X`` (n, d) and ``y`` (n,) or (n, m); returns self."""
        self._check_params()
        X, y = self._validate_fit(X, y, multi_output=True)
        Y = y.reshape(len(y), -1)
        self._y_1d = y.ndim == 1
        self.n_outputs_ = self._n_out = Y.shape[1]
        self._y_constant = np.ptp(Y, axis=0) == 0
        self._y_mean = np.where(self._y_constant, Y[0], Y.mean(axis=0))  # (a mean rounds)
        self._y_std = column_scale(Y)
        T = (Y - self._y_mean) / self._y_std
        held_out = self._train(X, T, lambda pred, target: (pred - target) ** 2)
        self.std_scale_ = self._std_scale(X, T, held_out)
        return self

    def _std_scale(self, X: np.ndarray, T: np.ndarray, held_out: np.ndarray) -> np.ndarray:
        """Per output, the factor (>= 1) that puts 95 % of the members' errors on the rows they
        held out within 1.96 spreads. A deep ensemble's spread alone covered 75-90 % of
        held-out values in a 95 % band (Ishigami, borehole, piston, OTL circuit, 100-500 rows);
        scaled, 88-97 %. Never scaled down: the spread is the members' disagreement."""
        ones = np.ones(T.shape[1])
        if self.n_ensemble < 2 or held_out.shape[1] == 0:
            return ones
        members = self._members(X)  # (E, n, m), standardized outputs
        spread = members.std(axis=0, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.concatenate([np.abs(T[rows] - members[e, rows]) / spread[rows]
                                for e, rows in enumerate(held_out)])
        z[~np.isfinite(z)] = np.nan  # members that agree exactly: no scale from that row
        if np.isnan(z).all(axis=0).any():
            return ones
        return np.maximum(1.0, np.nanquantile(z, 0.95, axis=0) / 1.959964)

    @limits_threads(fitted_size)
    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Ensemble mean (and spread, times ``std_scale_``) at ``X``: arrays of shape (n,) or
        (n, m)."""
        check_flag("return_std", return_std)
        X = self._validate_predict(X)
        # a constant output is its value, exactly: the networks' leftover error on it (about
        # 1e-3) came back in its own units (a constant 2e-9 was predicted as -5e-4)
        scale = np.where(self._y_constant, 0.0, self._y_std)
        members = self._members(X) * scale + self._y_mean  # (E, n, m)
        mean = members.mean(axis=0)
        if len(members) > 1:
            std = members.std(axis=0, ddof=1) * self.std_scale_
        else:  # one network has no spread: unknown, not 0 (a 0 would claim certainty)
            std = np.full_like(mean, np.nan)
            if return_std:
                warnings.warn("NNRegressor(n_ensemble=1) has no standard deviation (NaN): the "
                              "spread of an ensemble needs n_ensemble >= 2", UserWarning,
                              stacklevel=2)
        if self._y_1d:
            mean, std = mean[:, 0], std[:, 0]
        return (mean, std) if return_std else mean

    def _extra_state(self) -> dict[str, Any]:
        return {"y_mean": self._y_mean.tolist(), "y_std": self._y_std.tolist(),
                "y_constant": self._y_constant.tolist(), "y_1d": bool(self._y_1d),
                "std_scale": self.std_scale_.tolist()}

    def _load_extra_state(self, meta: dict[str, Any]) -> None:
        self._y_mean = np.asarray(meta["y_mean"], dtype=np.float64)
        self._y_std = np.asarray(meta["y_std"], dtype=np.float64)
        # saved before constant outputs were kept exact: as they were then
        self._y_constant = np.asarray(meta.get("y_constant", np.zeros(len(self._y_std))),
                                      dtype=bool)
        self._y_1d = bool(meta["y_1d"])
        self.n_outputs_ = self._n_out
        # saved before the spread was scaled: as it was then
        self.std_scale_ = np.asarray(meta.get("std_scale", np.ones(self._n_out)), dtype=float)


class NNClassifier(BinaryClassifierMixin, ClassifierMixin, _NNBase):
    """Deep-ensemble MLP binary classifier; probabilities averaged over members.

    Same parameters as :class:`NNRegressor`. ``predict_proba`` returns (n, 2) with columns in
    ``classes_`` order; ``predict`` returns the more probable class.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((300, 2))
    >>> y = X[:, 0] > 0.5
    >>> clf = NNClassifier(n_ensemble=2, max_epochs=200, seed=0).fit(X, y)
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    @limits_threads()
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NNClassifier:
        """Fit to ``X`` (n, d) and binary labels ``y`` (n,); returns self.

        ``sample_weight`` (n,), optional: weights >= 0 of the rows. Rows that repeat a point
        are learnt as that point, its target the weighted share of the second class, its
        weight theirs: a teacher's soft labels passed as class-weighted duplicates (as
        :func:`surrogate.distill` passes them) are learnt as the teacher's probabilities (the
        cross-entropy of knowledge distillation), and a weight of 2 is a row given twice.
        """
        self._check_params()
        X, y = self._validate_fit(X, y, multi_output=False)
        self.classes_, labels = _binary_labels(y)
        self._n_out = 1
        weight = check_sample_weight(sample_weight, len(X))
        points, reward = points_to_learn(X, labels, weight, 2)
        total = reward.sum(axis=1)
        self._train(points, np.column_stack([reward[:, 1] / total, total / total.mean()]),
                    _weighted_cross_entropy, n_out=1)
        return self

    @limits_threads(fitted_size)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (n, 2), columns in ``classes_`` order."""
        X = self._validate_predict(X)
        p = expit(self._members(X)[..., 0].astype(np.float64)).mean(axis=0)  # no overflow
        return np.column_stack([1.0 - p, p])

    def _extra_state(self) -> dict[str, Any]:
        return self._classes_state()


def _weighted_cross_entropy(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-element cross-entropy of the logits ``pred`` (..., 1) against the probabilities
    ``target[..., :1]``, times the weights ``target[..., 1:]``."""
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        pred, target[..., :1].expand_as(pred), reduction="none")
    return loss * target[..., 1:]


def _binary_labels(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``classes_`` and 0/1 labels for a binary target; clear errors otherwise."""
    kind = type_of_target(y, input_name="y", raise_unknown=True)
    classes, labels = np.unique(y, return_inverse=True)
    if kind == "continuous":  # probabilities, e.g. a teacher's soft labels
        raise ValueError(
            f"y is continuous: {len(classes)} distinct values, not all whole numbers "
            f"({classes.tolist()[:3]}{' ...' if len(classes) > 3 else ''}): "
            "a classifier needs class labels (two classes), not probabilities or values; "
            "threshold them (y > 0.5), fit a regressor, or distil with labels='hard'")
    if kind != "binary" or len(classes) != 2:
        raise ValueError(
            f"Only binary classification is supported. The type of the target is {kind} "
            f"with {len(classes)} class{'es' if len(classes) != 1 else ''}: "
            f"{classes.tolist()[:5]}; y needs exactly 2 classes")
    return classes, labels.astype(np.int64)
