"""Transfer-set generators: one protocol, each checked against what it must preserve."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.exceptions import NotFittedError
from sklearn.neighbors import NearestNeighbors

import surrogate as sg
from surrogate.distillation import (
    MUNGE,
    DataGenerator,
    GMMGenerator,
    KDEGenerator,
    SpaceGenerator,
    TransferGenerator,
)


@pytest.fixture(scope="module")
def cloud():
    """A correlated 2-D cloud: y = x + small noise, x standard normal."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    return pd.DataFrame({"x": x, "y": x + rng.normal(scale=0.1, size=400)})


def nearest_distance(data, points):
    distances, _ = NearestNeighbors(n_neighbors=1).fit(data).kneighbors(points)
    return distances[:, 0]


def test_munge_keeps_marginals_and_stays_on_the_data_manifold(cloud):
    new = MUNGE(p=0.5, s=1.0).fit(cloud).sample(4000, seed=1)
    for column in ("x", "y"):
        assert ks_2samp(new[column], cloud[column]).statistic < 0.06
    # the structure: new points keep the correlation and stay near the data ...
    assert np.corrcoef(new.x, new.y)[0, 1] > 0.98
    munge = np.median(nearest_distance(cloud, new))
    # ... where uniform sampling of the bounding box does not
    box = sg.Space([sg.Real(c, cloud[c].min(), cloud[c].max()) for c in ("x", "y")])
    uniform = SpaceGenerator(box, method="random").fit(cloud).sample(4000, seed=1)
    assert abs(np.corrcoef(uniform.x, uniform.y)[0, 1]) < 0.05
    assert munge < np.median(nearest_distance(cloud, uniform)) / 5


def test_munge_moves_each_attribute_towards_the_nearest_neighbour():
    # nearest neighbours: 0 <-> 1 (gap 0.1), and 2 -> 1 (0.25, closer than 0.35 to point 0)
    X = pd.DataFrame({"a": [0.0, 0.1, 0.35], "c": ["p", "q", "r"]})
    p0 = MUNGE(p=0.0).fit(X).sample(6, seed=0)  # nothing changes: each point once per pass
    assert sorted(zip(p0.c, p0.a, strict=True)) == sorted(2 * list(zip(X.c, X.a, strict=True)))
    p1 = MUNGE(p=1.0, s=1e9).fit(X).sample(3, seed=0)  # every attribute becomes the neighbour's
    got = sorted(zip(p1.c, p1.a.round(6), strict=True))
    assert got == [("p", 0.0), ("q", 0.1), ("q", 0.1)]


def test_munge_spread_is_the_gap_over_s():
    X = pd.DataFrame({"a": [0.0, 0.5]})  # one pair, gap 0.5 (in [0, 1] units: 1)
    new = MUNGE(p=1.0, s=4.0).fit(X).sample(20_000, seed=2)
    # point 0 draws around 0.5 and point 1 around 0.0, both with sd 0.5 / 4, clipped to [0, 0.5]
    low = new.a[new.a < 0.25]
    assert low.mean() == pytest.approx(0.125 / np.sqrt(2 * np.pi), abs=0.01)  # half-normal mean
    assert abs((new.a < 0.25).mean() - 0.5) < 0.02


def test_generators_snap_to_the_space():
    space = sg.Space([sg.Real("r", 0.0, 1.0), sg.Integer("k", 1, 4), sg.Categorical("c", ["u", "v"])])
    X = sg.sample(space, 60, seed=3)
    for generator in (MUNGE(p=1.0, s=0.2, space=space), KDEGenerator(bandwidth=1.5, space=space),
                      GMMGenerator(space=space, seed=0)):
        new = generator.fit(X).sample(500, seed=4)
        pd.testing.assert_frame_equal(space.validate(new), new)  # in bounds, right types
        assert new.r.min() >= 0 and new.r.max() <= 1
        assert set(new.k) <= {1, 2, 3, 4} and set(new.c) <= {"u", "v"}


def test_without_a_space_integer_columns_stay_integer_and_constants_constant():
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"n": rng.integers(0, 10, 50), "zero": np.zeros(50),
                      "a": rng.normal(size=50)})
    new = KDEGenerator(bandwidth=0.8).fit(X).sample(300, seed=0)
    assert new.n.dtype.kind == "i" and new.n.between(0, 9).all()
    assert (new.zero == 0).all()
    assert new.a.between(X.a.min(), X.a.max()).all()


@pytest.mark.parametrize("make", [MUNGE, KDEGenerator, GMMGenerator, DataGenerator],
                         ids=["munge", "kde", "gmm", "data"])
def test_without_a_space_a_column_too_wide_or_complex_is_named(make):
    # a column from -1e308 to 1e308 overflowed max - min: MUNGE and GMM failed in
    # scikit-learn ("Input X contains NaN"), KDE and DataGenerator drew NaN; a complex
    # column lost its imaginary part without a word
    huge = pd.DataFrame({"a": [-1e308, 0.0, 1e308, 5e307], "b": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(ValueError, match=r"column 'a' spans \[-1e\+308, 1e\+308\], wider "
                                         r"than floating point holds"):
        make().fit(huge)
    with pytest.raises(ValueError, match="column 'z' holds complex numbers"):
        make().fit(pd.DataFrame({"z": [1 + 1j, 2.0, 3j], "b": [1.0, 2.0, 3.0]}))
    wide = pd.DataFrame({"a": [-1e307, 0.0, 1e307, 5e306], "b": [1.0, 2.0, 3.0, 4.0]})
    new = make().fit(wide).sample(50, seed=0)
    assert np.isfinite(new.a).all() and new.a.between(-1e307, 1e307).all()


@pytest.mark.parametrize("bandwidth", ["cv", "scott"])
def test_constant_columns_change_neither_the_bandwidth_nor_their_value(bandwidth):
    # a constant column is all zeros once standardized: it rewarded narrower kernels (0.54 with
    # none, 0.10 with three) and came back as its mean's rounding (0.29999999999999993)
    space = sg.Space([sg.Real("a", 0.0, 1.0), sg.Real("b", 0.0, 1.0), sg.Real("c", 0.0, 1.0)])
    X = sg.sample(space, 80, seed=1)
    widths = []
    for n_constant in range(4):
        data = X.assign(**{f"k{j}": 0.3 for j in range(n_constant)})
        kde = KDEGenerator(bandwidth=bandwidth, seed=0).fit(data)
        widths.append(kde.bandwidth_)
        if n_constant:
            assert (kde.sample(200, seed=1)[[f"k{j}" for j in range(n_constant)]] == 0.3).all().all()
    assert widths == pytest.approx([widths[0]] * 4, rel=1e-12)


def test_a_mixture_on_data_that_never_varies_is_one_component_without_warnings():
    X = pd.DataFrame({"a": np.full(40, 2.5), "c": ["u", "v"] * 20})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sklearn warned nine times, once per extra component
        gmm = GMMGenerator(seed=0).fit(X)
    assert gmm.mixture_.n_components == 1
    new = gmm.sample(50, seed=0)
    assert (new.a == 2.5).all() and set(new.c) == {"u", "v"}


def test_kde_samples_follow_the_data_and_keep_categories_with_their_points():
    rng = np.random.default_rng(6)
    c = rng.choice(["low", "high"], 300)
    X = pd.DataFrame({"v": np.where(c == "low", 0.0, 10.0) + rng.normal(size=300), "c": c})
    kde = KDEGenerator(seed=0).fit(X)  # bandwidth by cross-validation
    assert 0.02 <= kde.bandwidth_ <= 0.5
    new = kde.sample(2000, seed=1)
    assert ((new.v < 5) == (new.c == "low")).mean() > 0.99
    assert abs((new.c == "low").mean() - (c == "low").mean()) < 0.04
    scott = KDEGenerator(bandwidth="scott").fit(X)
    assert scott.bandwidth_ == pytest.approx(300 ** (-1 / 5))  # Scott's rule, 1 numeric column


def test_gmm_chooses_components_by_bic_and_keeps_categories():
    rng = np.random.default_rng(7)
    X = pd.DataFrame({"a": np.r_[rng.normal(-4, 0.5, 200), rng.normal(4, 0.5, 100)],
                      "c": ["left"] * 200 + ["right"] * 100})
    gmm = GMMGenerator(max_components=5, seed=0).fit(X)
    assert gmm.mixture_.n_components == 2 and min(gmm.bic_, key=gmm.bic_.get) == 2
    new = gmm.sample(3000, seed=1)
    assert abs((new.a < 0).mean() - 2 / 3) < 0.03
    assert ((new.a < 0) == (new.c == "left")).mean() > 0.99


def test_space_generator_is_the_design():
    space = sg.Space([sg.Real("x", 0, 1), sg.Integer("n", 0, 3)])
    new = SpaceGenerator(space, method="sobol").fit().sample(16, seed=9)
    pd.testing.assert_frame_equal(new, sg.sample(space, 16, method="sobol", seed=9))
    # a design needs no data: sampling an unfitted one works as SPEC.md writes it
    unfitted = SpaceGenerator(space, method="sobol").sample(16, seed=9)
    pd.testing.assert_frame_equal(unfitted, new)
    with pytest.raises(ValueError, match="method must be one of"):
        SpaceGenerator(space, method="grid").fit()
    with pytest.raises(ValueError, match="method must be one of"):
        SpaceGenerator(space, method="grid").sample(4)


def test_data_generator_draws_each_point_once_per_pass():
    X = pd.DataFrame({"x": np.arange(5.0)})
    generator = DataGenerator().fit(X)
    assert sorted(generator.sample(5, seed=0).x) == list(range(5))
    counts = np.bincount(generator.sample(12, seed=0).x.astype(int), minlength=5)
    assert sorted(counts) == [2, 2, 2, 3, 3]  # two full passes, then 2 of a third


def test_data_generator_gives_data_1_values_themselves():
    # they went to [0, 1] and back: 124 of 200 values changed in their last digit without a
    # space, 173 and 183 with one (a log scale), so "Data 1's own points" were not Data 1's
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200) * 3.7 + 1.3, "b": rng.random(200) * 1e-3,
                      "n": rng.integers(-5, 5, 200), "c": rng.choice(["u", "v"], 200)})
    space = sg.Space([sg.Real("a", -20, 20), sg.Real("b", 1e-9, 1e-2, log=True),
                      sg.Integer("n", -5, 4), sg.Categorical("c", ["u", "v"])])
    for generator in (DataGenerator(), DataGenerator(space=space)):
        new = generator.fit(X).sample(200, seed=0)
        assert sorted(new.a) == sorted(X.a) and sorted(new.b) == sorted(X.b)
        assert new.n.dtype == np.int64 and sorted(new.n) == sorted(X.n)
        rows = X.astype(object).apply(tuple, axis=1)
        assert new.astype(object).apply(tuple, axis=1).isin(rows).all()  # whole rows
    edge = DataGenerator(space=space).fit(X.assign(a=20 * (1 + 1e-14))).sample(3, seed=0)
    assert (edge.a == 20.0).all()  # a rounding past the bound is kept inside it

@pytest.mark.parametrize("make", [
    lambda: MUNGE(), lambda: KDEGenerator(bandwidth=0.5), lambda: GMMGenerator(seed=0),
    lambda: DataGenerator(),
])
def test_sample_validates_n_and_seed_and_is_deterministic(make, cloud):
    generator = make()
    with pytest.raises(NotFittedError):
        generator.sample(3, seed=0)
    generator.fit(cloud)
    pd.testing.assert_frame_equal(generator.sample(50, seed=3), generator.sample(50, seed=3))
    assert not generator.sample(50, seed=3).equals(generator.sample(50, seed=4))
    with pytest.raises(ValueError, match="n must be an int >= 1, got 0"):
        generator.sample(0)
    with pytest.raises(ValueError, match="n must be an int >= 1, got -2"):
        generator.sample(-2)
    with pytest.raises(TypeError, match="n must be an int"):
        generator.sample(2.5)
    with pytest.raises(TypeError, match="seed"):
        generator.sample(5, seed="zero")


def test_bad_options_are_named():
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0]})
    with pytest.raises(ValueError, match="p must be a probability"):
        MUNGE(p=1.5).fit(X)
    with pytest.raises(ValueError, match="s must be a finite number > 0"):
        MUNGE(s=0).fit(X)
    with pytest.raises(ValueError, match="bandwidth must be"):
        KDEGenerator(bandwidth="wide").fit(X)
    with pytest.raises(ValueError, match="max_components must be an int >= 1"):
        GMMGenerator(max_components=0).fit(X)
    with pytest.raises(ValueError, match="n_components=5 is more than the 3 points"):
        GMMGenerator(n_components=5).fit(X)
    with pytest.raises(ValueError, match="at least 2 points"):
        MUNGE().fit(X.iloc[:1])
    with pytest.raises(ValueError, match="column 'a' has missing values"):
        MUNGE().fit(pd.DataFrame({"a": [0.0, np.nan, 1.0]}))
    space = sg.Space([sg.Real("a", 0, 1)])
    with pytest.raises(ValueError, match="column 'a'"):
        MUNGE(space=space).fit(X)  # 2.0 is outside the space


class Jitter(TransferGenerator):
    """A subclass per the docstring's recipe: Data 1's points plus uniform noise of width w."""

    def __init__(self, w=0.1, *, space=None):
        self.w = w
        self.space = space

    def _fit(self, unit, codes):
        self.unit_, self.codes_ = unit, codes

    def _sample(self, n, rng):
        pick = rng.integers(0, len(self.unit_), n)
        noise = rng.uniform(-self.w, self.w, (n, self.unit_.shape[1]))
        return self.columns_.decode(self.unit_[pick] + noise, self.codes_[pick])


def test_subclassing_recipe():
    X = pd.DataFrame({"a": [0.0, 10.0]})
    new = Jitter(w=0.05).fit(X).sample(200, seed=0)
    near = np.minimum(new.a, 10 - new.a)  # distance to the nearest data point, in data units
    assert near.max() <= 0.5 + 1e-12 and new.a.between(0, 10).all()
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        Jitter().fit(X).sample(0)


def test_kde_bandwidth_search_subsamples_a_large_data_1():
    # the search's cost grows with the rows squared (51 s at 8,000 rows of 8 columns)
    from surrogate.distillation._density import CV_MAX_ROWS

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(3 * CV_MAX_ROWS, 2)), columns=["a", "b"])
    large = KDEGenerator(seed=0).fit(X)
    assert large.bandwidth_ == KDEGenerator(seed=0).fit(X).bandwidth_  # seeded subsample
    # Gaussian data: near the normal reference width (4 / (d + 2))^(1 / (d + 4)) n^(-1 / (d + 4))
    # of standardized columns (Silverman 1986, eq. 4.14), within a factor 2
    reference = (4 / (2 + 2)) ** (1 / 6) * len(X) ** (-1 / 6)
    assert reference / 2 < large.bandwidth_ < reference * 2


@pytest.mark.parametrize("generator", [MUNGE(p=1.0, s=1.0), KDEGenerator(bandwidth=0.5),
                                       GMMGenerator(seed=0)], ids=["munge", "kde", "gmm"])
def test_an_object_array_of_a_mixed_frame_keeps_its_numbers_numeric(generator):
    # df.to_numpy() of a mixed frame is an object array: its number columns were taken for
    # categories, so the generators only ever copied Data 1's values
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.uniform(size=60), "c": rng.choice(["u", "v"], 60)})
    new = generator.fit(frame.to_numpy()).sample(300, seed=1)
    assert new.x0.dtype.kind == "f"
    assert (~new.x0.isin(frame.x)).mean() > 0.3
    assert set(new.x1) <= {"u", "v"}
    objects = pd.DataFrame(frame.to_numpy(), columns=["x", "c"])  # a frame of object columns
    new = generator.fit(objects).sample(300, seed=1)
    assert new.x.dtype.kind == "f" and (~new.x.isin(frame.x)).mean() > 0.3


def test_repeated_column_names_are_named():
    frame = pd.DataFrame([[0.1, 0.2], [0.3, 0.4], [0.5, 0.1]], columns=[1, "1"])
    for generator in (MUNGE(), KDEGenerator(), GMMGenerator()):
        with pytest.raises(ValueError, match=r"column names must differ.*\['1'\]"):
            generator.fit(frame)


@pytest.mark.parametrize("generator", [MUNGE(p=1.0, s=1.0), KDEGenerator(bandwidth=0.5),
                                       GMMGenerator(seed=0)], ids=["munge", "kde", "gmm"])
def test_a_typed_frame_keeps_its_object_columns_of_numbers_categories(generator):
    # sg.sample writes a Categorical of numbers as an object column of ints: without a
    # space the generators took it for an integer column and drew levels it does not have
    space = sg.Space([sg.Real("a", 0, 1), sg.Categorical("n", [10, 20, 30])])
    X = sg.sample(space, 200, seed=0)
    new = generator.fit(X).sample(500, seed=1)
    assert new["n"].dtype == object
    assert set(new["n"]) <= {10, 20, 30}


def test_distill_without_a_space_gives_the_teacher_data_1_as_it_was_fitted():
    # the teacher (a pipeline one-hot encoding the object column of numbers) was fitted on
    # Data 1; distill turned that column into int64 first and the teacher's encoder failed
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder
    from sklearn.tree import DecisionTreeClassifier

    def encoded(model):
        return make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown="ignore"),
                                                      ["n"]), remainder="passthrough"), model)

    space = sg.Space([sg.Real("a", 0, 1), sg.Categorical("n", [10, 20, 30])])
    X = sg.sample(space, 200, seed=0)
    y = ((X["a"] > 0.5) & (X["n"] != 30)).astype(int)
    teacher = encoded(RandomForestClassifier(20, random_state=0)).fit(X, y)
    for transfer in ("data", "munge"):
        result = sg.distill(teacher, encoded(DecisionTreeClassifier(max_depth=4)),
                            transfer=transfer, n=300, data=(X, y), seed=0)
        assert set(result.transfer_set_["n"]) <= {10, 20, 30}
