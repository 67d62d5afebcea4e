"""scikit-learn conformance of the quantum estimators: parametrize_with_checks, Pipeline, GridSearchCV, clone, pickle."""
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from qmlsim.qml.classifiers import QSVC, VariationalClassifier
from qmlsim.qml.datasets import ad_hoc_data
from qmlsim.qml.kernels import FidelityQuantumKernel
from qmlsim.qml.qkan import HQKAN, QKAN
from qmlsim.qml.ridgelet import RidgeletNetwork

# Small settings keep the checks fast: the generic checks fit on up to 300 rows.
# QKAN runs with warm_start=False: scikit-learn's idempotence check refits one estimator.
ESTIMATORS = [
    QSVC(),
    VariationalClassifier(reps=1, maxiter=3, learning_rate=0.1, random_state=0),
]
# QKAN and HQKAN compile a JAX training step per fit and HQKAN trains long enough to pass
# the accuracy checks: about a minute on 2 workers, in the slow run
SLOW_ESTIMATORS = [
    QKAN(reps=1, steps=5, warm_start=False),
    HQKAN(reps=1, steps=100, learning_rate=0.05),
    HQKAN(k=2, reps=1, steps=200, learning_rate=0.05, loss="cross_entropy"),
    RidgeletNetwork(n_nodes=8, modulus=5, random_state=0),
]
# scikit-learn's regressor checks fit 10 features: Z_5^10 has 5^11 candidate nodes, which
# RidgeletNetwork refuses with a clear error (it is meant for D = 2-4 quantised features)
_TOO_MANY_FEATURES = "10 features give P^(D+1) = 5^11 candidate nodes, refused by design"
RIDGELET_EXPECTED = {
    name: _TOO_MANY_FEATURES
    for name in ("check_dtype_object", "check_regressors_train", "check_regressor_data_not_an_array", "check_regressors_int")
}


def _expected_failures(estimator):
    return RIDGELET_EXPECTED if isinstance(estimator, RidgeletNetwork) else {}


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks(SLOW_ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible_slow(estimator, check):
    check(estimator)


def test_hqkan_is_a_classifier_or_regressor_by_its_loss():
    from sklearn.base import is_classifier, is_regressor

    assert is_classifier(HQKAN(loss="cross_entropy")) and not is_regressor(HQKAN(loss="cross_entropy"))
    assert is_regressor(HQKAN()) and not is_classifier(HQKAN())
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.where(X[:, 0] > 0, "b", "a")
    clf = HQKAN(k=2, reps=1, steps=100, learning_rate=0.05, loss="cross_entropy").fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert np.array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    assert clf.score(X, y) > 0.9
    assert not hasattr(HQKAN().fit(X, X[:, 0]), "predict_proba")


@pytest.fixture(scope="module")
def data():
    return ad_hoc_data(10, 10, seed=0)


def test_pipeline_and_grid_search(data):
    x_train, y_train, x_test, y_test = data
    pipe = make_pipeline(FunctionTransformer(), QSVC())
    search = GridSearchCV(pipe, {"qsvc__C": [0.1, 1.0], "qsvc__kernel": [FidelityQuantumKernel(), FidelityQuantumKernel(shots=1000, seed=0)]}, cv=2)
    search.fit(x_train, y_train)
    assert search.best_estimator_.score(x_test, y_test) >= 0.9


def test_clone_and_pickle_roundtrip(data):
    x_train, y_train, x_test, _ = data
    for est in (QSVC(kernel=FidelityQuantumKernel(device="numpy")), VariationalClassifier(reps=1, maxiter=5, random_state=0)):
        fitted = clone(est).fit(x_train, y_train)
        restored = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_allclose(restored.decision_function(x_test), fitted.decision_function(x_test), atol=1e-12)
        assert clone(est).get_params(deep=False).keys() == est.get_params(deep=False).keys()


def test_qkan_infers_its_width_and_clones():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (40, 3))
    y = np.stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]], axis=1)
    model = QKAN(reps=1, steps=20, trainable="all").fit(X, y)
    assert model.width_ == [3, 2] and model.n_features_in_ == 3
    assert model.predict(X).shape == (40, 2)
    assert clone(model).get_params() == model.get_params() and not hasattr(clone(model), "params_")
    one = QKAN(reps=1, steps=5).fit(X, y[:, 0])
    assert one.predict(X).shape == (40,)
    with pytest.raises(ValueError, match="3 features"):
        QKAN([2, 1], steps=1).fit(X, y[:, 0])
