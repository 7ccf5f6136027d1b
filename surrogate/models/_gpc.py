"""Gaussian-process classifier: gpytorch variational GP with a Bernoulli (probit) likelihood.

Stage "models" of the pipeline; scenario discovery (REDS) uses it to label large fresh samples,
so prediction is a closed-form, batched computation: P(y=1|x) = Phi(mu / sqrt(1 + s^2)) for
the latent posterior N(mu, s^2) (Rasmussen & Williams 2006, eq. 3.82).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin

from surrogate._threads import fitted_size, limits_threads
from surrogate.models import _gp_hyper as hyp
from surrogate.models._base import (
    DTYPE,
    BinaryClassifierMixin,
    SurrogateMixin,
    check_choice,
    check_flag,
    check_positive_float,
    check_positive_int,
    to_tensor,
    torch_generator,
)
from surrogate.models._gp_hyper import KERNELS
from surrogate.models._nn import _binary_labels
from surrogate.models._svgp import SVGP, _spread_subset
from surrogate.models._weights import check_sample_weight, points_to_learn

__all__ = ["GPClassifier"]

PREDICT_CHUNK = 8192
MINIBATCH = 4096
QUADRATURE = 20  # Gauss-Hermite nodes for the expected log-likelihood


class GPClassifier(BinaryClassifierMixin, SurrogateMixin, ClassifierMixin, BaseEstimator):
    """Binary GP classifier (variational, inducing points, probit link).

    Categorical inputs (as ``sg.sample`` makes them) get the same kernel as in
    :class:`GPRegressor`: an exchangeable correlation of their levels times the ARD kernel of
    the numeric inputs. The levels seen at fit are ``categories_``.

    Parameters
    ----------
    kernel : {"matern52", "matern32", "rbf"}, default="matern52"
        ARD correlation of the latent function.
    additive : bool, default=False
        ``True``: the latent function's correlation is ``w k(x, x') + (1 - w) k_add(x, x')``,
        the ARD correlation ``k`` plus a first-order additive one, ``k_add``: the mean over
        inputs of one-input correlations with their own length scales (Duvenaud, Nickisch &
        Rasmussen 2011); ``w`` is learnt. A region bounded by one-input conditions (a box:
        "x0 > 0.4 and x1 < 0.6") is then a threshold of a sum, which the ARD kernel alone can
        only round off: on a box planted in 6 inputs, held-out accuracy rose from 0.969 /
        0.973 / 0.982 to 0.976 / 0.986 / 0.991 with 200 / 400 / 800 runs (without ``warp``, in the
        run before warping became the default: ``benchmarks/results/classify.md`` at 995bda1;
        with the default warping, which draws the box sharper on its own, it adds nothing:
        0.981 / 0.992 / 0.997 against 0.982 / 0.992 / 0.998). On a region of interacting
        inputs it can do worse (dsgc stability with 200 runs: 0.86 against 0.88), and the
        evidence lower bound is no guide between the two (on dsgc it favoured the additive
        model that predicted worse), so it is a choice to make with held-out data, e.g. as a
        candidate of :class:`AutoClassifier`. Fits took 1.4-6.6x longer there.
    warp : bool, default=True
        Each numeric input passes through its own Kumaraswamy CDF,
        ``1 - (1 - u^a)^b`` of its place ``u`` in the training range, before the kernel
        (input warping, Snoek et al. 2014), with ``a`` and ``b`` learnt (in [1, 20], under
        the log-normal prior of BoTorch's input warping, log-variance 0.75; both 1.13, near
        the identity, to start). Both are kept at 1 or more: below 1 the warping's slope is
        infinite at an edge of the range, where the data are thinnest (on a ball that cost
        0.6 points of accuracy). Where the warping is steep the kernel sees a long way, so a
        boundary along one input (a box's face) can be sharp there while the function stays
        smooth elsewhere. On the classification benchmark (``python -m benchmarks classify``)
        held-out accuracy on a box planted in 6 inputs rose from 0.969 / 0.973 / 0.982
        without warping to 0.982 / 0.992 / 0.998 with 200 / 400 / 800 runs (the best tree:
        0.990 / 0.994 / 0.999); on a ball, whose boundary follows no input, it stayed at
        0.970 / 0.983 / 0.988, and on dsgc stability it was 0.877 / 0.904 / 0.926 against
        0.884 / 0.902 / 0.924 (over seven designs of 200 runs: -0.002 on average, from
        -0.012 to +0.008). On an oblique half-space in 5 inputs with 200 runs it lost 0.004
        on average over three designs (up to 0.008). ``False``: the plain ARD kernel. Inputs
        beyond the training range are held at its edge. Fits took about 1.2x as long.
    n_inducing : int, default=128
        Inducing points (a spread-out subset of the training inputs).
    max_iter : int, default=200
        Evaluations of the evidence lower bound by L-BFGS (up to 4,096 points, all at once),
        or Adam steps on mini-batches of 4,096 (more points).
    learning_rate : float, default=0.05
        Adam's step size (more than 4,096 points).
    seed : int, numpy.random.Generator or None
    device : str, default="cpu"

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    lengthscale_ : ndarray of shape (n_features,)
        In original input units (with ``warp``: in warped units, times the input's range).
    n_iter_ : int
        Evaluations (L-BFGS, which stops earlier once converged) or steps (Adam) taken, by
        the kept model.
    additive_weight_ : float
        The weight ``w`` of the ARD product in an additive model (1.0 when not additive).
    warp_ : ndarray of shape (n_features, 2) or None
        The warping's ``a`` and ``b`` per input (NaN for a categorical one, which is not
        warped); None without ``warp``.
    elbo_ : float
        The evidence lower bound per training point reached, less the log priors divided by
        the points: with ``additive=True`` that of the product weight's logit, N(0, 3^2);
        with ``warp=True`` those of the warping's log concentrations.
    n_features_in_, feature_names_in_
    categories_ : dict
        The categorical inputs and their levels.
    data_min_, data_max_ : ndarray of shape (n_features,)
        The training inputs' range per column (NaN for a categorical one).
    n_samples_fit_ : int

    References
    ----------
    Hensman, Matthews & Ghahramani (2015), Scalable variational Gaussian process
    classification, AISTATS.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((200, 2))
    >>> y = (X[:, 0] - 0.5) ** 2 + (X[:, 1] - 0.5) ** 2 < 0.1
    >>> clf = GPClassifier(seed=0).fit(X, y)
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    # files saved before ``warp`` existed were fitted without warping (today's default warps)
    _SAVED_DEFAULTS: ClassVar[dict[str, Any]] = {"warp": False}

    def __init__(self, *, kernel: str = "matern52", additive: bool = False, warp: bool = True,
                 n_inducing: int = 128, max_iter: int = 200, learning_rate: float = 0.05,
                 seed: Any = None, device: str = "cpu") -> None:
        self.kernel = kernel
        self.additive = additive
        self.warp = warp
        self.n_inducing = n_inducing
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.seed = seed
        self.device = device

    def _check_params(self) -> None:
        self._check_common()
        check_choice("kernel", self.kernel, KERNELS)
        check_flag("additive", self.additive)
        check_flag("warp", self.warp)
        check_positive_int("n_inducing", self.n_inducing, 2)
        check_positive_int("max_iter", self.max_iter)
        check_positive_float("learning_rate", self.learning_rate)

    @limits_threads()
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GPClassifier:
        """Fit to ``X`` (n, d) and binary labels ``y`` (n,); returns self.

        ``sample_weight`` (n,), optional: weights >= 0 of the rows. Rows that repeat a point
        are learnt as that point, with the weighted share of the second class as its label
        (the expected log-likelihood ``p log Phi(f) + (1 - p) log Phi(-f)``) and their total
        weight as its weight: a teacher's soft labels passed as class-weighted duplicates (as
        :func:`surrogate.distill` passes them) are learnt as the teacher's probabilities, and
        a weight of 2 is a row given twice. Rows of weight 0 are left out.
        """
        self._check_params()
        X, y = self._validate_fit(X, y, multi_output=False)
        self.classes_, labels = _binary_labels(y)
        weight = check_sample_weight(sample_weight, len(X))
        X, reward = points_to_learn(X, labels, weight, 2)
        weight = reward.sum(axis=1)
        share = reward[:, 1] / weight  # of the second class; the class itself without weights
        unweighted = bool(np.all(weight == 1.0) and np.all((share == 0.0) | (share == 1.0)))
        categorical = np.asarray(self._column_levels()) > 0
        self._x_low = np.where(categorical, 0.0, X.min(axis=0))  # categories keep their codes
        span = X.max(axis=0) - self._x_low
        self._x_scale = np.where((span > 0) & ~categorical, span, 1.0)
        U = to_tensor((X - self._x_low) / self._x_scale, self._device)
        T = torch.as_tensor(share, dtype=DTYPE, device=self._device)
        W = None if unweighted else torch.as_tensor(weight, dtype=DTYPE, device=self._device)
        rng = self._rng()
        gen = torch_generator(rng)
        M = min(self.n_inducing, len(U))
        inducing = U[_spread_subset(U, M, rng)].unsqueeze(0).contiguous()
        self._svgp = SVGP(self.kernel, inducing, hyp.Layout.of(self._column_levels()),
                          bool(self.additive), bool(self.warp))
        model = self._svgp.model.to(self._device)
        d = U.shape[1]
        dev = self._device
        self._svgp.set_hyper(torch.full((1, d), 0.3 * math.sqrt(d), dtype=DTYPE, device=dev),
                             torch.ones(1, dtype=DTYPE, device=dev),
                             torch.zeros(1, dtype=DTYPE, device=dev))
        self.n_iter_, loss = self._train(self._svgp, model, U, T, W, gen)
        self.elbo_ = -loss
        self._fitted_summary()
        return self

    def _fitted_summary(self) -> None:
        """The kept model's length scales and product weight in readable form."""
        self.lengthscale_ = self._svgp.lengthscale().detach().cpu().numpy()[0] * self._x_scale
        weight = self._svgp.product_weight()
        self.additive_weight_ = 1.0 if weight is None else float(weight.detach().cpu()[0])
        logs = self._svgp.warp_concentrations()
        if logs is None:
            self.warp_ = None
        else:
            self.warp_ = np.exp(logs.detach().cpu().numpy()[0].T)  # (d, 2): a, b
            self.warp_[np.asarray(self._column_levels()) > 0] = np.nan  # categories: not warped

    def _train(self, svgp: SVGP, model: Any, U: torch.Tensor, T: torch.Tensor,
               W: torch.Tensor | None, gen: torch.Generator) -> tuple[int, float]:
        """Maximize the evidence lower bound of the whitened variational GP; return the
        number of evaluations (L-BFGS) or steps (Adam), and the negative bound per point.

        ELBO = sum_i E_q[log Phi(s_i f_i)] - KL(q(v) || N(0, I)), s_i = +-1 (Hensman et al.
        2015, eq. 4); with weights ``W`` and shares ``T`` of the second class, each point's
        term is ``W_i (T_i E_q[log Phi(f_i)] + (1 - T_i) E_q[log Phi(-f_i)])`` and the
        points count as ``sum W`` (the bound of the rows the weights stand for). The
        expectation uses Gauss-Hermite quadrature on the closed-form
        marginals of :meth:`SVGP.posterior`, which is much cheaper than the generic
        gpytorch likelihood path for the same model. Up to MINIBATCH points the bound is
        deterministic and L-BFGS (strong Wolfe line search) climbs it on all points at once: on
        the planted box and ball and on dsgc (200-800 points), 150 evaluations gave a lower
        held-out log loss than 1,000 Adam steps. Beyond, Adam on random mini-batches.
        """
        gh_nodes, gh_weights = np.polynomial.hermite.hermgauss(QUADRATURE)
        nodes = torch.as_tensor(gh_nodes * math.sqrt(2.0), dtype=DTYPE, device=U.device)
        weights = torch.as_tensor(gh_weights / math.sqrt(math.pi), dtype=DTYPE, device=U.device)
        sign = 2.0 * T - 1.0
        n_rows = len(U) if W is None else float(W.sum())
        dist = model.variational_strategy._variational_distribution

        def loss(idx: Any) -> torch.Tensor:
            """Negative ELBO per point (a mini-batch ``idx`` stands for all points)."""
            mean, var = svgp.posterior(U[idx])  # (1, b)
            f = mean[0, :, None] + var[0, :, None].clamp_min(1e-12).sqrt() * nodes  # (b, q)
            if W is None:
                data = -(torch.special.log_ndtr(sign[idx, None] * f) * weights).sum(-1).mean()
            else:
                share = T[idx]
                loglik = share * (torch.special.log_ndtr(f) * weights).sum(-1) \
                    + (1.0 - share) * (torch.special.log_ndtr(-f) * weights).sum(-1)
                data = -(W[idx] * loglik).sum() / W[idx].sum()
            m_v, chol = dist.variational_mean[0], torch.tril(dist.chol_variational_covar[0])
            diag = torch.diagonal(chol).abs().clamp_min(1e-30)
            kl = 0.5 * ((chol**2).sum() + (m_v**2).sum() - len(m_v)) - torch.log(diag).sum()
            return data + (kl + svgp.prior_penalty()) / n_rows

        if len(U) <= MINIBATCH:
            evaluations = 0
            opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=self.max_iter,
                                    max_eval=self.max_iter, history_size=20,
                                    tolerance_grad=1e-7, tolerance_change=1e-10,
                                    line_search_fn="strong_wolfe")

            def closure() -> torch.Tensor:
                nonlocal evaluations
                evaluations += 1
                opt.zero_grad()
                value = loss(slice(None))
                value.backward()
                return value

            opt.step(closure)
            steps = evaluations
        else:
            adam = torch.optim.Adam(model.parameters(), lr=self.learning_rate)
            for _ in range(self.max_iter):
                adam.zero_grad()
                loss(torch.randperm(len(U), generator=gen)[:MINIBATCH]).backward()
                adam.step()
            steps = self.max_iter
        model.eval()
        with torch.no_grad():
            chunks = [slice(start, start + MINIBATCH) for start in range(0, len(U), MINIBATCH)]
            counts = [len(U[c]) if W is None else float(W[c].sum()) for c in chunks]
            final = sum(float(loss(c)) * k
                        for c, k in zip(chunks, counts, strict=True)) / sum(counts)
        return steps, final if math.isfinite(final) else math.inf

    def _latent(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        X = self._validate_predict(X)
        U = to_tensor((X - self._x_low) / self._x_scale, self._device)
        means, variances = np.empty(len(U)), np.empty(len(U))  # sized once (see GPRegressor)
        with torch.no_grad():
            for start in range(0, len(U), PREDICT_CHUNK):
                mean, var = self._svgp.posterior(U[start:start + PREDICT_CHUNK])
                means[start:start + PREDICT_CHUNK] = mean[0].cpu().numpy()
                variances[start:start + PREDICT_CHUNK] = var[0].cpu().numpy()
        return means, variances

    @limits_threads(fitted_size)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (n, 2), columns in ``classes_`` order."""
        from scipy.special import ndtr

        mean, var = self._latent(X)
        p = ndtr(mean / np.sqrt(1.0 + var))
        return np.column_stack([1.0 - p, p])

    # persistence hooks
    def _state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        meta = {"x_low": self._x_low.tolist(), "x_scale": self._x_scale.tolist(),
                **self._classes_state(), "elbo_": float(self.elbo_),
                "n_iter_": int(self.n_iter_), "warp_at_least_one": True}
        return meta, {f"svgp.{k}": v for k, v in self._svgp.state_dict().items()}

    def _from_state(self, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        self._x_low = np.asarray(meta["x_low"], dtype=np.float64)
        self._x_scale = np.asarray(meta["x_scale"], dtype=np.float64)
        self._load_extra_state(meta)
        state = {k[5:]: v for k, v in tensors.items() if k.startswith("svgp.")}
        self.elbo_ = float(meta.get("elbo_", math.nan))  # NaN: saved before it was kept
        if "n_iter_" in meta:  # absent from files saved before it was kept
            self.n_iter_ = int(meta["n_iter_"])
        self._svgp = SVGP(self.kernel, state["variational_strategy.inducing_points"],
                          hyp.Layout.of(self._column_levels()), bool(self.additive),
                          bool(self.warp))
        # files saved before a, b >= 1 keep their own map of the raw warping parameters
        self._svgp.warp_at_least_one = bool(meta.get("warp_at_least_one", False))
        self._svgp.load_state_dict(state)
        self._svgp.model.to(self._device).eval()
        self._fitted_summary()
