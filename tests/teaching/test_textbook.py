"""The worked numbers of both seed documents, through the public estimators.

Seeds: "Neural Networks from Scratch" (the handout: a 3-4-1 sigmoid network)
and "Introduction to Neural Networks" (a 2-2-1 sigmoid network; Alice).

Both documents train on the FULL squared error (y - a)^2, whose gradient is
twice that of scikit-learn's half squared error 0.5 (y - a)^2. So every
training test below fits with learning_rate_init = 2 * eta: one SGD step then
changes each weight by exactly the documents' -eta * dLoss/dw.

Every network has logistic hidden nodes and one logistic output node trained
on squared error, as in the documents. Forward values are read with
``predict`` from a fitted model whose coefs_ / intercepts_ are set to the
weights under study; hidden activations are read through an identity output
node that copies one hidden node (output weight 1, the others 0).
"""

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from numba_mlp import MLPClassifier, MLPRegressor
from numba_mlp.worked_examples import (
    ALICE_COEFS,
    ALICE_INTERCEPTS,
    HANDOUT_HIDDEN_BIASES,
    HANDOUT_LEARNING_RATE,
    HANDOUT_W_HIDDEN_OUTPUT,
    HANDOUT_W_INPUT_HIDDEN,
    HANDOUT_X,
    HANDOUT_Y,
    INTRODUCTION_LEARNING_RATE,
    PEOPLE_X,
    PEOPLE_Y,
)

from helpers import sigmoid

# One SGD step per sample, in order, nothing else.
ONE_STEP = dict(
    solver="sgd",
    batch_size=1,
    momentum=0.0,
    nesterovs_momentum=False,
    alpha=0.0,
    shuffle=False,
    learning_rate="constant",
    max_iter=1,
)


def as_arrays(layers):
    return [np.array(layer, dtype=float) for layer in layers]


def fit_one_epoch(estimator, X, y, coefs, intercepts, **fit_params):
    """fit (max_iter=1) from the given weights; returns the estimator."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(
            np.asarray(X, dtype=float),
            np.asarray(y),
            coefs_init=as_arrays(coefs),
            intercepts_init=as_arrays(intercepts),
            **fit_params,
        )
    return estimator


def outputs_with(estimator, X, y, coefs, intercepts):
    """predict(X) of a fitted model whose weights are set to coefs / intercepts."""
    fit_one_epoch(estimator, X, y, coefs, intercepts)
    estimator.coefs_ = as_arrays(coefs)
    estimator.intercepts_ = as_arrays(intercepts)
    return estimator.predict(np.asarray(X, dtype=float)).ravel()


def regressor(
    hidden_layer_sizes, activation="logistic", out_activation="logistic", learning_rate_init=0.01
):
    return MLPRegressor(
        hidden_layer_sizes=hidden_layer_sizes,
        activation=activation,
        out_activation=out_activation,
        learning_rate_init=learning_rate_init,
        **ONE_STEP,
    )


def readout(n_hidden, node):
    """Output weights making an identity output node equal hidden node ``node``."""
    return [[1.0 if j == node else 0.0] for j in range(n_hidden)]


# =========================================================== the handout

# the handout's inputs and weights, kept in one place with the trace's examples
X_HANDOUT = [HANDOUT_X]
Y_HANDOUT = [HANDOUT_Y]
ETA = HANDOUT_LEARNING_RATE
W_INPUT_HIDDEN = HANDOUT_W_INPUT_HIDDEN
W_HIDDEN_OUTPUT = HANDOUT_W_HIDDEN_OUTPUT
HIDDEN_BIASES = HANDOUT_HIDDEN_BIASES


def handout_hidden_activations():
    """h_j = sigmoid(sum_i x_i w_ij), by hand."""
    x = X_HANDOUT[0]
    return [sigmoid(sum(x[i] * W_INPUT_HIDDEN[i][j] for i in range(3))) for j in range(4)]


def handout_output_bias():
    """The output bias making the output activation the handout's assumed 0.6."""
    h = handout_hidden_activations()
    return math.log(0.6 / 0.4) - sum(w * a for w, a in zip(W_HIDDEN_OUTPUT, h))


def handout_network():
    coefs = [W_INPUT_HIDDEN, [[w] for w in W_HIDDEN_OUTPUT]]
    intercepts = [HIDDEN_BIASES, [handout_output_bias()]]
    return coefs, intercepts


@pytest.mark.parametrize(
    "activation,expected",
    [
        ("identity", 2.6),  # net_input: sum(c(0.5, 3.6, -1.5))
        ("logistic", 0.9308616),  # h1_activation <- sigmoid(net_input)
        ("relu", 2.6),
    ],  # relu(net_input)
)
def test_handout_activation_of_h1(activation, expected):
    coefs = [W_INPUT_HIDDEN, readout(4, 0)]
    intercepts = [HIDDEN_BIASES, [0.0]]
    h1 = outputs_with(
        regressor((4,), activation, "identity"), X_HANDOUT, Y_HANDOUT, coefs, intercepts
    )
    assert h1[0] == pytest.approx(expected, abs=5e-8)


def test_handout_output_activation_is_the_assumed_0_6():
    # output_node_activation <- 0.6: our output bias is chosen to give it
    coefs, intercepts = handout_network()
    output = outputs_with(regressor((4,)), X_HANDOUT, Y_HANDOUT, coefs, intercepts)
    assert output[0] == pytest.approx(0.6, abs=1e-12)


@pytest.fixture(scope="module")
def handout_step():
    """Weight changes of one SGD step on the handout's single example."""
    coefs, intercepts = handout_network()
    # learning rate 2 * eta: scikit-learn's half squared error has half the gradient
    model = fit_one_epoch(
        regressor((4,), learning_rate_init=2 * ETA), X_HANDOUT, Y_HANDOUT, coefs, intercepts
    )
    return dict(
        input_hidden=model.coefs_[0] - np.array(W_INPUT_HIDDEN),
        hidden_output=model.coefs_[1][:, 0] - np.array(W_HIDDEN_OUTPUT),
        output_bias=model.intercepts_[1][0] - intercepts[1][0],
        hidden_biases=model.intercepts_[0] - np.array(HIDDEN_BIASES),
        new_input_hidden=model.coefs_[0],
        new_hidden_output=model.coefs_[1][:, 0],
    )


def test_handout_output_delta(handout_step):
    # delta_o <- 2*(label - output_node_activation) * sigmoid_derivative(0.6)
    # the output bias sees an input of 1, so it moves by eta * delta_o
    delta_o = handout_step["output_bias"] / ETA
    assert delta_o == pytest.approx(2 * (1 - 0.6) * 0.6 * 0.4, rel=1e-9)  # 0.192


def test_handout_hidden_to_output_weight_changes(handout_step):
    # weight_change <- eta * delta_o * h1_activation  ->  0.001787254
    assert handout_step["hidden_output"][0] == pytest.approx(0.001787254, abs=5e-10)
    # weight_h1_o <- weight_h1_o + weight_change  ->  0.8017873
    assert handout_step["new_hidden_output"][0] == pytest.approx(0.8017873, abs=5e-8)
    # exercise: the same rule for h2..h4 (by hand: eta * 0.192 * h_j)
    by_hand = [ETA * 0.192 * h for h in handout_hidden_activations()]
    np.testing.assert_allclose(handout_step["hidden_output"], by_hand, rtol=1e-9)


def test_handout_hidden_delta(handout_step):
    # delta_h1 = w_h1_o * delta_o * h1 (1 - h1). The handout multiplies by the
    # output weight AFTER its update (0.8017873) and gets 0.009907519; standard
    # backprop (ours, scikit-learn's) uses the weight BEFORE the step, 0.8.
    # The input x1 = 1, so weight change of x1 -> h1 = eta * delta_h1.
    delta_h1 = handout_step["input_hidden"][0, 0] / ETA
    h1 = sigmoid(2.6)
    assert delta_h1 == pytest.approx(0.8 * 0.192 * h1 * (1 - h1), rel=1e-9)
    assert delta_h1 == pytest.approx(0.009885435, abs=5e-10)  # by hand, weight 0.8
    # and the handout's number, once its post-update weight is swapped back in
    assert delta_h1 / 0.8 == pytest.approx(0.009907519 / 0.8017873, rel=1e-6)


def test_handout_input_to_hidden_weight_changes(handout_step):
    # weight_change <- eta * delta_h1 * input_nodes
    change = handout_step["input_hidden"][:, 0]
    # the handout's printed changes (post-update weight 0.8017873) ...
    handout_change = [9.907519e-05, 2.972256e-04, 4.953760e-04]
    np.testing.assert_allclose(change * 0.8017873 / 0.8, handout_change, rtol=1e-6)
    # ... and its updated weights c(0.5000991, 1.2002972, -0.2995046)
    np.testing.assert_allclose(
        np.array([0.5, 1.2, -0.3]) + change * 0.8017873 / 0.8,
        [0.5000991, 1.2002972, -0.2995046],
        atol=5e-8,
    )
    # With the pre-update weight 0.8 (standard backprop), by hand:
    # 0.5 + 0.01 * 0.009885435 * (1, 3, 5) = (0.5000989, 1.2002966, -0.2995057)
    np.testing.assert_allclose(
        handout_step["new_input_hidden"][:, 0], [0.5000989, 1.2002966, -0.2995057], atol=5e-8
    )


def test_handout_all_input_to_hidden_weight_changes(handout_step):
    # exercise: every hidden node j gets delta_j = w_jo * delta_o * h_j (1 - h_j),
    # every weight x_i -> h_j changes by eta * delta_j * x_i, every bias by eta * delta_j
    h = handout_hidden_activations()
    delta = [w * 0.192 * a * (1 - a) for w, a in zip(W_HIDDEN_OUTPUT, h)]
    by_hand = ETA * np.outer(X_HANDOUT[0], delta)
    np.testing.assert_allclose(handout_step["input_hidden"], by_hand, rtol=1e-8, atol=1e-15)
    np.testing.assert_allclose(
        handout_step["hidden_biases"], ETA * np.array(delta), rtol=1e-8, atol=1e-15
    )


# ===================================== the introduction (2-2-1 network)

X_NEURON = [[2.0, 3.0]]  # x = [2, 3]
W_NEURON = [0.0, 1.0]  # w = [0, 1]


@pytest.mark.parametrize(
    "bias,activation,expected,precision",
    [
        (4.0, "identity", 7.0, 1e-12),  # (w . x) + b = 7
        (4.0, "logistic", 0.999, 5e-4),  # f(7) = 0.999
        (0.0, "logistic", 0.9526, 5e-5),
    ],
)  # f(3) = 0.9526
def test_intro_single_neuron(bias, activation, expected, precision):
    # the neuron is the hidden node; an identity output node copies it
    coefs = [[[W_NEURON[0]], [W_NEURON[1]]], [[1.0]]]
    intercepts = [[bias], [0.0]]
    y = outputs_with(regressor((1,), activation, "identity"), X_NEURON, [1.0], coefs, intercepts)
    assert y[0] == pytest.approx(expected, abs=precision)


# Every neuron: w = [0, 1], b = 0. Row i holds the weights leaving input i.
FEEDFORWARD_COEFS = [[[0.0, 0.0], [1.0, 1.0]], [[0.0], [1.0]]]
FEEDFORWARD_INTERCEPTS = [[0.0, 0.0], [0.0]]


@pytest.mark.parametrize("node", [0, 1])
def test_intro_feedforward_hidden_nodes(node):
    # h1 = h2 = f(0*2 + 1*3 + 0) = f(3) = 0.9526
    coefs = [FEEDFORWARD_COEFS[0], readout(2, node)]
    h = outputs_with(
        regressor((2,), "logistic", "identity"), X_NEURON, [1.0], coefs, FEEDFORWARD_INTERCEPTS
    )
    assert h[0] == pytest.approx(0.9526, abs=5e-5)


def test_intro_feedforward_output():
    # o1 = f(0 * h1 + 1 * h2 + 0) = f(0.9526) = 0.7216
    o1 = outputs_with(regressor((2,)), X_NEURON, [1.0], FEEDFORWARD_COEFS, FEEDFORWARD_INTERCEPTS)
    assert o1[0] == pytest.approx(0.7216, abs=5e-5)


def test_intro_feedforward_output_as_classifier_probability():
    # The same network as a binary classifier: one logistic output node = P(y=1).
    clf = MLPClassifier(
        hidden_layer_sizes=(2,),
        activation="logistic",
        out_activation="logistic",
        loss="squared_error",
        learning_rate_init=0.01,
        **ONE_STEP,
    )
    X = X_NEURON + [[0.0, 0.0]]
    fit_one_epoch(clf, X, [1, 0], FEEDFORWARD_COEFS, FEEDFORWARD_INTERCEPTS)
    clf.coefs_ = as_arrays(FEEDFORWARD_COEFS)
    clf.intercepts_ = as_arrays(FEEDFORWARD_INTERCEPTS)
    proba = clf.predict_proba(np.array(X_NEURON))
    assert proba.shape == (1, 2)
    assert proba[0, 1] == pytest.approx(0.7216, abs=5e-5)
    assert proba[0, 0] == pytest.approx(1 - 0.7216, abs=5e-5)


def test_intro_mse_when_always_predicting_zero():
    # A network that always outputs 0: MSE = (1 + 0 + 0 + 1) / 4 = 0.5.
    # Identity output, all weights 0. loss_ of the first epoch (one full batch)
    # is computed before the step, at these weights; it is the HALF squared
    # error, so the document's MSE is 2 * loss_.
    model = MLPRegressor(
        hidden_layer_sizes=(2,),
        activation="logistic",
        out_activation="identity",
        learning_rate_init=0.01,
        **{**ONE_STEP, "batch_size": 4},
    )
    fit_one_epoch(
        model,
        PEOPLE_X,
        np.array(PEOPLE_Y, float),
        [np.zeros((2, 2)), np.zeros((2, 1))],
        [np.zeros(2), np.zeros(1)],
    )
    assert 2 * model.loss_ == pytest.approx(0.5, abs=1e-12)


INTRO_ETA = INTRODUCTION_LEARNING_RATE


@pytest.mark.parametrize("node", [0, 1])
def test_intro_alice_hidden_nodes(node):
    # h1 = f(-2 + -1 + 0) = 0.0474 = h2
    coefs = [ALICE_COEFS[0], readout(2, node)]
    h = outputs_with(
        regressor((2,), "logistic", "identity"), PEOPLE_X[:1], [1.0], coefs, ALICE_INTERCEPTS
    )
    assert h[0] == pytest.approx(0.0474, abs=5e-5)


def test_intro_alice_output_and_loss():
    # o1 = f(0.0474 + 0.0474 + 0) = 0.524; dL/dy_pred = -2(1 - 0.524) = -0.952;
    # dy_pred/dh1 = 1 * f'(0.0948) = 0.249
    model = regressor((2,))
    o1 = outputs_with(model, PEOPLE_X[:1], [1.0], ALICE_COEFS, ALICE_INTERCEPTS)[0]
    assert o1 == pytest.approx(0.524, abs=5e-4)
    # (the document doubles o1 rounded to 3 digits, so its rounding error doubles)
    assert -2 * (1 - o1) == pytest.approx(-0.952, abs=1e-3)
    assert o1 * (1 - o1) == pytest.approx(0.249, abs=5e-4)
    # MSE = (1 - y_pred)^2: loss_ of the single-sample epoch is taken at the
    # initial weights and is the half squared error
    refit = fit_one_epoch(regressor((2,)), PEOPLE_X[:1], [1.0], ALICE_COEFS, ALICE_INTERCEPTS)
    assert 2 * refit.loss_ == pytest.approx((1 - o1) ** 2, rel=1e-12)


def alice_gradients(kind):
    """dL/dparams of the document's full squared error on Alice, from one SGD step.

    With learning rate 2 * eta on scikit-learn's half squared error, each
    parameter moves by -eta * dL/dparam, so dL/dparam = -change / eta.
    """
    if kind == "regressor":  # Alice alone, one step of batch size 1
        model = regressor((2,), learning_rate_init=2 * INTRO_ETA)
        fit_one_epoch(model, PEOPLE_X[:1], [1.0], ALICE_COEFS, ALICE_INTERCEPTS)
    else:  # all four people, one full batch; zero weights leave Alice's gradient alone
        model = MLPClassifier(
            hidden_layer_sizes=(2,),
            activation="logistic",
            out_activation="logistic",
            loss="squared_error",
            learning_rate_init=2 * INTRO_ETA,
            **{**ONE_STEP, "batch_size": 4},
        )
        fit_one_epoch(
            model,
            PEOPLE_X,
            PEOPLE_Y,
            ALICE_COEFS,
            ALICE_INTERCEPTS,
            sample_weight=[1.0, 0.0, 0.0, 0.0],
        )
    start = as_arrays(ALICE_COEFS) + as_arrays(ALICE_INTERCEPTS)
    end = list(model.coefs_) + list(model.intercepts_)
    return [-(e - s) / INTRO_ETA for s, e in zip(start, end)]


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_intro_alice_partial_derivatives(kind):
    d_coefs_0, d_coefs_1, d_biases_0, d_biases_1 = alice_gradients(kind)
    dL_dw1 = d_coefs_0[0, 0]
    dL_db1 = d_biases_0[0]
    # The document multiplies factors rounded to 3 digits:
    # dL/dw1 = -0.952 * 0.249 * -0.0904 = 0.0214 (exactly: 0.021470)
    assert dL_dw1 == pytest.approx(0.0214, abs=1e-4)
    # dL/db1 = -0.952 * 0.249 * 0.044791, where 0.044791 = 0.047 * (1 - 0.047)
    # rounds f(-3) = 0.0474 to 0.047; exactly f'(-3) = 0.045177 (1% more)
    assert dL_db1 == pytest.approx(-0.952 * 0.249 * 0.044791, rel=2e-2)

    # Exact values, from the same chain rule evaluated by hand
    h1 = sigmoid(-3.0)
    o1 = sigmoid(2 * h1)
    dL_dy = -2 * (1 - o1)
    dy_dh1 = 1.0 * o1 * (1 - o1)  # w5 * f'(w5 h1 + w6 h2 + b3)
    dh1_db1 = h1 * (1 - h1)
    assert dL_dw1 == pytest.approx(dL_dy * dy_dh1 * -2.0 * dh1_db1, rel=1e-8)
    assert dL_db1 == pytest.approx(dL_dy * dy_dh1 * dh1_db1, rel=1e-8)
    # dh1/dw1 = x1 * f'(.), dh1/dw2 = x2 * f'(.), dh1/db1 = f'(.)
    assert dL_dw1 / dL_db1 == pytest.approx(-2.0, rel=1e-9)
    assert d_coefs_0[1, 0] / dL_db1 == pytest.approx(-1.0, rel=1e-9)
    # h2 is h1's twin: dL/dw3 = dL/dw1, dL/dw4 = dL/dw2, dL/db2 = dL/db1
    np.testing.assert_allclose(d_coefs_0[:, 1], d_coefs_0[:, 0], rtol=1e-12)
    assert d_biases_0[1] == pytest.approx(dL_db1, rel=1e-12)
    # dL/dw5 = dL/dy * f'(o1 net) * h1 and dL/db3 = dL/dy * f'(o1 net)
    np.testing.assert_allclose(d_coefs_1[:, 0], [dL_dy * dy_dh1 * h1] * 2, rtol=1e-8)
    assert d_biases_1[0] == pytest.approx(dL_dy * dy_dh1, rel=1e-8)
