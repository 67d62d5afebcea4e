"""ad_hoc_data against qiskit-machine-learning (bit-for-bit) and a dense np.kron reference of the paper's labelling."""
import itertools
import warnings

import numpy as np
import pytest
from scipy.linalg import expm
from sklearn.svm import SVC

from qmlsim.qml.datasets import ad_hoc_data

qml_datasets = pytest.importorskip("qiskit_machine_learning.datasets")
from qiskit_machine_learning.utils import algorithm_globals  # noqa: E402


def _qiskit(seed, *args, **kwargs):
    algorithm_globals.random_seed = seed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return qml_datasets.ad_hoc_data(*args, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n=2, gap=0.3),
        dict(n=3, gap=0.2),
        dict(n=1, gap=0.0),
        dict(n=2, gap=0.1, entanglement="linear"),
        dict(n=2, gap=0.1, sampling_method="hypercube", divisions=10),
        dict(n=3, gap=0.0, entanglement="circular", sampling_method="hypercube", divisions=7),
    ],
)
@pytest.mark.parametrize("seed", [0, 7])
def test_bit_for_bit_with_qiskit_machine_learning(kwargs, seed):
    ours = ad_hoc_data(12, 5, seed=seed, **kwargs)
    theirs = _qiskit(seed, 12, 5, one_hot=False, **kwargs)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_one_hot_and_class_labels_follow_qiskit():
    ours = ad_hoc_data(4, 3, seed=1, one_hot=True)
    theirs = _qiskit(1, 4, 3, 2, gap=0.3)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
    _, y, _, _ = ad_hoc_data(4, 3, seed=1, class_labels=(-1, 1))
    assert y.tolist() == [-1] * 4 + [1] * 4


def _dense_reference_labels(x, v, gap):
    """Paper definition with np.kron and expm: U = exp(i sum phi_S Z_S), |Phi> = U H U H |0>, O = V^+ Z..Z V."""
    n = x.shape[1]
    z, one = np.diag([1.0, -1.0]), np.eye(2)

    def z_on(wires):
        return _kron([z if w in wires else one for w in range(n)])

    h = _kron([np.array([[1, 1], [1, -1]]) / np.sqrt(2)] * n)
    obs = v.conj().T @ _kron([z] * n) @ v
    labels = []
    for row in x:
        gen = sum(row[i] * z_on({i}) for i in range(n))
        gen = gen + sum((np.pi - row[i]) * (np.pi - row[j]) * z_on({i, j}) for i, j in itertools.combinations(range(n), 2))
        u = expm(1j * gen)
        psi = u @ h @ u @ h @ np.eye(2**n)[0]
        value = np.real(psi.conj() @ obs @ psi)
        labels.append(0 if abs(value) <= gap else int(np.sign(value)))
    return np.array(labels)


def _kron(mats):
    out = np.eye(1)
    for m in mats:
        out = np.kron(out, m)
    return out


@pytest.mark.parametrize("n", [2, 3])
def test_labels_match_dense_reference(n):
    gap = 0.3 if n == 2 else 0.2
    x_train, y_train, _, _ = ad_hoc_data(10, 0, n=n, gap=gap, seed=3)
    rng = np.random.default_rng(3)
    a = rng.random((2**n, 2**n)) + 1j * rng.random((2**n, 2**n))
    evals, evecs = np.linalg.eig(a.conj().T @ a)
    v = evecs[:, evals.argsort()[::-1]]
    ref = _dense_reference_labels(x_train, v, gap)
    assert (ref == np.where(y_train == 0, 1, -1)).all()


def test_classical_rbf_svm_stays_near_chance():
    scores = []
    for seed in range(10):
        x_train, y_train, x_test, y_test = ad_hoc_data(20, 20, seed=seed)
        scores.append(SVC(kernel="rbf", gamma="scale").fit(x_train, y_train).score(x_test, y_test))
    assert np.mean(scores) < 0.7


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(training_size=-1, test_size=1), "training_size"),
        (dict(training_size=1, test_size=1, n=0), "n must be"),
        (dict(training_size=1, test_size=1, gap=-0.1), "gap"),
        (dict(training_size=1, test_size=1, gap=float("nan")), "gap"),
        (dict(training_size=1, test_size=1, n=4), "grid sampling supports n <= 3"),
        (dict(training_size=1, test_size=1, sampling_method="hypercube"), "divisions"),
        (dict(training_size=1, test_size=1, sampling_method="random"), "sampling_method"),
        (dict(training_size=1, test_size=1, entanglement="ring"), "entanglement"),
        (dict(training_size=1, test_size=1, gap=5.0), "gap=5.0 leaves no grid point"),
    ],
)
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ad_hoc_data(**kwargs)


def test_sobol_is_seeded():
    a = ad_hoc_data(5, 2, n=4, gap=0.1, seed=2, sampling_method="sobol")
    b = ad_hoc_data(5, 2, n=4, gap=0.1, seed=2, sampling_method="sobol")
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert a[0].shape == (10, 4)
