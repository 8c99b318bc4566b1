"""The teaching trace (numba_mlp.trace_step) against the seeds' worked numbers.

Both documents use the FULL squared error (y - a)^2, twice scikit-learn's
half squared error 0.5 (y - a)^2 that the kernels (and so the trace) use:
their derivatives, deltas and weight changes are twice ours. The handout
also defines delta as -dLoss/dnet (a weight changes by +eta x delta x a),
so its deltas are -2 x ours.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from numba_mlp import LayerTrace, MLPClassifier, MLPRegressor, StepTrace, trace_step
from numba_mlp._trace_text import format_trace
from numba_mlp.worked_examples import alice_example, handout_example

import reference as ref
from helpers import sigmoid

ETA = 0.01  # the handout's eta <- 0.01


# ------------------------------------------------ introduction: Alice, 2-2-1


@pytest.fixture(scope="module")
def alice():
    net, x, y = alice_example(learning_rate=0.1)
    return trace_step(net, x, y)


def test_alice_forward_pass(alice):
    hidden, output = alice.layers
    # h1 = f(-2 + -1 + 0) = 0.0474 = h2
    np.testing.assert_allclose(hidden.net_input, [-3.0, -3.0])
    np.testing.assert_allclose(hidden.activation, [0.0474, 0.0474], atol=5e-5)
    # o1 = f(0.0474 + 0.0474 + 0) = 0.524
    assert output.net_input[0] == pytest.approx(2 * sigmoid(-3.0), rel=1e-12)
    assert output.activation[0] == pytest.approx(0.524, abs=5e-4)
    assert alice.output[0] == output.activation[0]


def test_alice_partial_derivative_of_w1(alice):
    hidden, output = alice.layers
    # dL/dw1 = -0.952 x 0.249 x -0.0904 = 0.0214 for the FULL squared error:
    # twice the gradient of scikit-learn's half squared error
    dL_dw1 = 2 * hidden.weight_gradient[0, 0]
    assert dL_dw1 == pytest.approx(0.0214, abs=1e-4)
    # the same chain rule, exactly
    o1 = sigmoid(2 * sigmoid(-3.0))
    h1 = sigmoid(-3.0)
    exact = -2 * (1 - o1) * (1.0 * o1 * (1 - o1)) * (-2.0 * h1 * (1 - h1))
    assert dL_dw1 == pytest.approx(exact, rel=1e-10)
    # dL/dy_pred = -2 (1 - y_pred) = -0.952 ; dy_pred/dh1 = w5 f'(.) = 0.249:
    # the output delta (ours: half of dL/dy_pred x f'(net))
    assert 2 * output.delta[0] == pytest.approx(-0.952 * 0.249, abs=2e-3)
    # dh1/db1 = f'(-3) = 0.045177 (the document rounds f(-3) to 0.047: 0.044791)
    assert hidden.bias_gradient[0] / hidden.weight_gradient[0, 0] == pytest.approx(-0.5)
    assert 2 * hidden.bias_gradient[0] == pytest.approx(-0.952 * 0.249 * 0.044791, rel=2e-2)


def test_alice_weight_changes_are_one_plain_sgd_step(alice):
    for layer in alice.layers:
        np.testing.assert_allclose(layer.weight_change, -0.1 * layer.weight_gradient)
        np.testing.assert_allclose(layer.bias_change, -0.1 * layer.bias_gradient)
    # h1 and h2 are twins
    hidden = alice.layers[0]
    np.testing.assert_array_equal(hidden.weight_gradient[:, 0], hidden.weight_gradient[:, 1])
    # loss: scikit-learn's half squared error; the document's MSE is twice it
    assert 2 * alice.loss == pytest.approx((1 - alice.output[0]) ** 2, rel=1e-12)


def test_trace_changes_equal_one_real_training_step():
    """The trace's weight changes are exactly what fit's first SGD step does."""
    net, x, y = alice_example(learning_rate=0.1)
    trace = trace_step(net, x, y)
    stepped = MLPRegressor(
        hidden_layer_sizes=(2,),
        activation="logistic",
        out_activation="logistic",
        solver="sgd",
        batch_size=1,
        momentum=0.0,
        alpha=0.0,
        shuffle=False,
        learning_rate_init=0.1,
        max_iter=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        stepped.fit([x], [y], coefs_init=net.coefs_, intercepts_init=net.intercepts_)
    for layer, coef, intercept in zip(trace.layers, stepped.coefs_, stepped.intercepts_):
        np.testing.assert_allclose(layer.weights + layer.weight_change, coef, rtol=1e-14)
        np.testing.assert_allclose(layer.biases + layer.bias_change, intercept, rtol=1e-14)


# ------------------------------------------------------ the handout, 3-4-1


@pytest.fixture(scope="module")
def handout():
    net, x, y = handout_example(learning_rate=ETA)
    # the handout's numbers: weights_i_h1 <- c(0.5, 1.2, -0.3), the output
    # weights 0.8, -1.2, 0.5, -0.3, input_nodes <- c(1, 3, 5)
    np.testing.assert_array_equal(net.coefs_[0][:, 0], [0.5, 1.2, -0.3])
    np.testing.assert_array_equal(net.coefs_[1][:, 0], [0.8, -1.2, 0.5, -0.3])
    assert list(x) == [1.0, 3.0, 5.0]
    return trace_step(net, x, y)


def test_handout_forward_pass(handout):
    hidden, output = handout.layers
    assert hidden.net_input[0] == pytest.approx(2.6, abs=1e-12)  # net_input
    assert hidden.activation[0] == pytest.approx(0.9308616, abs=5e-8)  # sigmoid(2.6)
    assert output.activation[0] == pytest.approx(0.6, abs=1e-12)  # assumed output


def test_handout_output_delta_and_weight_change(handout):
    hidden, output = handout.layers
    # delta_o <- 2*(label - output_node_activation) * sigmoid_derivative(0.6) = 0.192
    assert -2 * output.delta[0] == pytest.approx(0.192, rel=1e-12)
    # weight_change <- eta * delta_o * h1_activation = 0.001787254 (eta = 0.01);
    # ours with learning rate eta is half of it (half squared error)
    assert 2 * output.weight_change[0, 0] == pytest.approx(0.001787254, abs=5e-10)
    assert handout.learning_rate == ETA


def test_handout_hidden_delta_uses_the_weight_before_the_step(handout):
    hidden, output = handout.layers
    # delta_h1 = w_h1_o x delta_o x h1 (1 - h1) with w = 0.8, before the update:
    # 0.8 x 0.192 x 0.9308616 x 0.0691384 = 0.009885435 (the handout prints
    # 0.009907519, having multiplied by its updated weight 0.8017873)
    assert -2 * hidden.delta[0] == pytest.approx(0.009885435, abs=5e-10)
    assert -2 * hidden.delta[0] * 0.8017873 / 0.8 == pytest.approx(0.009907519, abs=5e-9)
    # weight_change <- eta * delta_h1 * input_nodes
    np.testing.assert_allclose(
        2 * hidden.weight_change[:, 0], ETA * 0.009885435 * np.array([1.0, 3.0, 5.0]), rtol=1e-7
    )


# -------------------------------------------------------------- generality


def test_trace_of_a_trained_classifier_matches_a_numpy_reference():
    """Two hidden layers, softmax output, log loss, alpha: against plain NumPy."""
    rng = np.random.RandomState(0)
    X = rng.randn(30, 3)
    y = np.arange(30) % 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(
            hidden_layer_sizes=(4, 3), activation="tanh", alpha=0.01, max_iter=5, random_state=0
        ).fit(X, y)
    before = [c.copy() for c in clf.coefs_ + clf.intercepts_]
    trace = trace_step(clf, X[0], y[0], learning_rate=0.05)
    for saved, now in zip(before, clf.coefs_ + clf.intercepts_):
        np.testing.assert_array_equal(saved, now)
    assert isinstance(trace, StepTrace)
    assert all(isinstance(layer, LayerTrace) for layer in trace.layers)
    assert [layer.activation_function for layer in trace.layers] == ["tanh", "tanh", "softmax"]

    # plain NumPy: forward, softmax, deltas, gradients
    a = [X[0]]
    nets = []
    for i, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        net = a[-1] @ W + b
        nets.append(net)
        if i < 2:
            a.append(np.tanh(net))
        else:
            e = np.exp(net - net.max())
            a.append(e / e.sum())
    target = np.eye(3)[y[0]]
    deltas = [a[-1] - target]
    for i in (2, 1):
        deltas.insert(0, (clf.coefs_[i] @ deltas[0]) * (1 - a[i] ** 2))
    for i, layer in enumerate(trace.layers):
        np.testing.assert_allclose(layer.net_input, nets[i], rtol=1e-12)
        np.testing.assert_allclose(layer.activation, a[i + 1], rtol=1e-12)
        np.testing.assert_allclose(layer.delta, deltas[i], rtol=1e-10, atol=1e-15)
        gradient = np.outer(a[i], deltas[i]) + 0.01 * clf.coefs_[i]
        np.testing.assert_allclose(layer.weight_gradient, gradient, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(layer.weight_change, -0.05 * gradient, rtol=1e-10, atol=1e-15)
    assert trace.loss == pytest.approx(-np.log(a[-1][y[0]]), rel=1e-12)
    # the text names every node
    text = format_trace(trace)
    for name in ("x1", "h1.1", "h2.3", "o3", "w1 ", "b10"):
        assert name in text


def test_trace_refuses_bad_input():
    net, x, y = alice_example()
    with pytest.raises(ValueError, match="2 features"):
        trace_step(net, [1.0, 2.0, 3.0], y)
    with pytest.raises(ValueError, match="1 outputs"):
        trace_step(net, x, [1.0, 0.0])
    with pytest.raises(ValueError, match="NaN"):
        trace_step(net, [np.nan, 1.0], y)


# ------------------------------------ the trace runs exactly the training kernels


@pytest.mark.parametrize(
    "kind, hidden, activation",
    [
        ("clf", (4, 3), "tanh"),
        ("reg", (5,), "logistic"),
        ("clf", (3,), "relu"),
        ("reg", (4, 3), "gelu"),
        ("clf", (5,), "silu"),
        ("reg", (3,), "elu"),
    ],
)
def test_trace_values_are_the_training_kernels_buffers(kind, hidden, activation):
    """The same example through training's full-batch kernel: its buffers,
    read afterwards, hold bitwise the trace's activations, output net inputs,
    deltas, gradients and loss."""
    from numba_mlp._network import make_data, make_net, make_problem, make_work, pack
    from numba_mlp.kernels import loss_and_gradient

    rng = np.random.RandomState(3)
    X = rng.randn(30, 4)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) if kind == "clf" else X @ [1.0, -2.0, 0.5, 0.0]
    cls = MLPClassifier if kind == "clf" else MLPRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = cls(
            hidden_layer_sizes=hidden, activation=activation, alpha=0.0, max_iter=3, random_state=0
        ).fit(X, y)
    trace = trace_step(est, X[7], y[7])

    layer_units = [4, *hidden, est.n_outputs_]
    params = pack(est.coefs_, est.intercepts_, np.float64)
    grads = np.empty_like(params)
    net = make_net(layer_units, est.activation, est.out_activation_)
    work = make_work(net, 1, np.float64, gather=False)
    loss = loss_and_gradient(
        make_data(X[7:8], np.float64),
        net,
        make_problem(trace.target.reshape(1, -1), None, est.loss, 0.0, np.float64),
        np.zeros(1, dtype=np.int64),
        params,
        grads,
        work,
    )

    np.testing.assert_array_equal(
        work.activations, np.concatenate([la.activation for la in trace.layers])
    )
    np.testing.assert_array_equal(work.deltas, np.concatenate([la.delta for la in trace.layers]))
    np.testing.assert_array_equal(work.output_net_inputs[0], trace.layers[-1].net_input)
    np.testing.assert_array_equal(
        grads,
        np.concatenate(
            [la.weight_gradient.ravel() for la in trace.layers]
            + [la.bias_gradient for la in trace.layers]
        ),
    )
    assert loss == trace.loss


@pytest.mark.parametrize("activation", ref.HIDDEN_ACTIVATIONS + ref.NEW_HIDDEN_ACTIVATIONS)
def test_trace_shows_each_activation_and_its_derivative(activation):
    """Hidden activations and f'(net) in the trace against the NumPy
    reference's formulas (written from the net input, with SciPy)."""
    rng = np.random.RandomState(4)
    X = rng.randn(20, 3) * 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPRegressor(
            hidden_layer_sizes=(6,), activation=activation, max_iter=2, random_state=0
        ).fit(X, X[:, 0])
    trace = trace_step(est, X[3], 0.5)
    hidden, output = trace.layers
    expected = ref.activation(activation, hidden.net_input.reshape(1, -1))[0]
    np.testing.assert_allclose(hidden.activation, expected, rtol=1e-13, atol=1e-15)
    derivative = ref.derivative(activation, hidden.activation, hidden.net_input)
    np.testing.assert_allclose(hidden.derivative, derivative, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(output.derivative, 1.0)  # identity output
    # delta = (sum_k w_jk delta_k) x f'(net)
    back = est.coefs_[1] @ output.delta
    np.testing.assert_allclose(hidden.delta, back * derivative, rtol=1e-12, atol=1e-15)
    assert f"{activation}" in str(trace)


# ------------------------------------------ scikit-learn's own fitted estimators


def _sklearn_example_loss(estimator, x, target):
    """The loss of one example by scikit-learn's own prediction: log loss of
    its probabilities, or half the squared error of its prediction averaged
    over the outputs (scikit-learn's ``squared_loss``)."""
    if hasattr(estimator, "classes_"):
        proba = estimator.predict_proba(x.reshape(1, -1))[0]
        if estimator.out_activation_ == "softmax":
            return -np.log(proba[target.argmax()])
        if proba.shape[0] == 2 and target.shape[0] == 1:  # binary: the positive class
            proba = proba[1:]
        return -np.sum(target * np.log(proba) + (1 - target) * np.log(1 - proba))
    return 0.5 * np.mean((estimator.predict(x.reshape(1, -1)).ravel() - target) ** 2)


@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel", "regression"])
def test_trace_of_scikit_learns_own_estimators(target):
    """trace_step takes scikit-learn's fitted MLPClassifier / MLPRegressor: its
    output is scikit-learn's prediction, its loss scikit-learn's, and its
    gradient the finite differences of that loss (the L2 term 0.5 alpha |w|^2
    of one example included) at scikit-learn's weights."""
    from sklearn.neural_network import MLPClassifier as SkClassifier
    from sklearn.neural_network import MLPRegressor as SkRegressor

    rng = np.random.RandomState(5)
    X = rng.randn(40, 3)
    y = {
        "binary": (X[:, 0] > 0).astype(int),
        "multiclass": (X[:, 0] > 0).astype(int) + (X[:, 1] > 0),
        "multilabel": np.c_[X[:, 0] > 0, X[:, 1] > 0, X[:, 2] > 0].astype(int),
        "regression": np.c_[X[:, 0], X[:, 1] - X[:, 2]],
    }[target]
    estimator_class = SkRegressor if target == "regression" else SkClassifier
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = estimator_class(
            hidden_layer_sizes=(4,), activation="tanh", alpha=0.01, max_iter=30, random_state=0
        ).fit(X, y)
    before = [c.copy() for c in est.coefs_ + est.intercepts_]
    trace = trace_step(est, X[1], y[1])
    for saved, now in zip(before, est.coefs_ + est.intercepts_):
        np.testing.assert_array_equal(saved, now)

    if target == "regression":
        np.testing.assert_allclose(trace.output, est.predict(X[1:2])[0], rtol=1e-12)
    else:
        proba = est.predict_proba(X[1:2])[0]
        expected = proba[1:] if target == "binary" else proba
        np.testing.assert_allclose(trace.output, expected, rtol=1e-12)
    loss = _sklearn_example_loss(est, X[1], trace.target)
    assert trace.loss == pytest.approx(loss, rel=1e-10)

    # scikit-learn's squared loss is averaged over the outputs, its gradient
    # (output deltas a - y) is not: it trains with the gradient of the summed loss
    outputs_summed = trace.target.shape[0] if target == "regression" else 1

    def penalised_loss():
        squares = sum(np.sum(w**2) for w in est.coefs_)
        data_loss = _sklearn_example_loss(est, X[1], trace.target) * outputs_summed
        return data_loss + 0.5 * est.alpha * squares

    step = 1e-6
    for layer, traced in enumerate(trace.layers):
        for weights, gradient in [
            (est.coefs_[layer], traced.weight_gradient),
            (est.intercepts_[layer], traced.bias_gradient),
        ]:
            numeric = np.empty_like(weights)
            for index in np.ndindex(weights.shape):
                saved = weights[index]
                weights[index] = saved + step
                up = penalised_loss()
                weights[index] = saved - step
                down = penalised_loss()
                weights[index] = saved
                numeric[index] = (up - down) / (2 * step)
            np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-9)
