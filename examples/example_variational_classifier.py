"""
A variational classifier
========================

Havlicek et al.'s variational classifier (ZZ feature map, then a trainable ansatz,
parity readout) trained with SPSA, as a scikit-learn estimator.
"""
from qmlsim.qml import VariationalClassifier, ad_hoc_data

x_train, y_train, x_test, y_test = ad_hoc_data(20, 20, n=2, gap=0.3, seed=0)
clf = VariationalClassifier(reps=2, maxiter=250, n_restarts=2, random_state=0).fit(x_train, y_train)  # best of 2 SPSA runs
print("test accuracy:", clf.score(x_test, y_test))
