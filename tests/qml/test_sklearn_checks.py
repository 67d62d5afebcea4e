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

# Small settings keep the checks fast: the generic checks fit on up to 300 rows.
# QKAN runs with warm_start=False: scikit-learn's idempotence check refits one estimator.
ESTIMATORS = [
    QSVC(),
    VariationalClassifier(reps=1, maxiter=3, learning_rate=0.1, random_state=0),
    QKAN(reps=1, steps=5, warm_start=False),
]
# HQKAN trains long enough to pass the accuracy checks: about 40 s on 2 workers, in the slow run
SLOW_ESTIMATORS = [
    HQKAN(reps=1, steps=100, learning_rate=0.05),
    HQKAN(k=2, reps=1, steps=200, learning_rate=0.05, loss="cross_entropy"),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks(SLOW_ESTIMATORS)
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
