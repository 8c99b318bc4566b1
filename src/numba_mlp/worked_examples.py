"""The handouts' worked examples, as fitted networks with their exact weights.

'Introduction to Neural Networks' trains a 2-2-1 network on one person
(Alice); 'Neural Networks from Scratch' a 3-4-1 network on one example. The
numbers the documents print live here, once: the ``trace`` command's notes
and the tests compare numba-mlp's trace with them.
"""

import sys
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._trace import trace_step
from ._trace_text import format_number, format_trace


def _network_with_weights(coefs, intercepts, X, y, learning_rate):
    """A fitted MLPRegressor (logistic hidden and output nodes, squared error)
    whose weights are exactly ``coefs`` / ``intercepts``."""
    from ._multilayer_perceptron import MLPRegressor

    net = MLPRegressor(
        hidden_layer_sizes=(len(intercepts[0]),),
        activation="logistic",
        out_activation="logistic",
        solver="sgd",
        batch_size=1,
        momentum=0.0,
        alpha=0.0,
        shuffle=False,
        learning_rate_init=learning_rate,
        max_iter=1,
    )
    coefs = [np.array(c, dtype=float) for c in coefs]
    intercepts = [np.array(b, dtype=float) for b in intercepts]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net.fit(
            np.array(X, dtype=float),
            np.array(y, dtype=float),
            coefs_init=coefs,
            intercepts_init=intercepts,
        )
    # fit took one step; put the document's weights back
    net.coefs_ = coefs
    net.intercepts_ = intercepts
    return net


# ---- 'Introduction to Neural Networks': people as (weight - 135, height - 66),
# gender female = 1, male = 0; the 2-2-1 network with every weight 1, every bias 0
PEOPLE_X = [[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]]  # Alice, Bob, Charlie, Diana
PEOPLE_Y = [1, 0, 0, 1]
ALICE_X, ALICE_Y = PEOPLE_X[0], float(PEOPLE_Y[0])
#: w1 = x1 -> h1, w2 = x2 -> h1, w3 = x1 -> h2, w4 = x2 -> h2, w5 = h1 -> o1, w6 = h2 -> o1
ALICE_COEFS = [[[1.0, 1.0], [1.0, 1.0]], [[1.0], [1.0]]]
ALICE_INTERCEPTS = [[0.0, 0.0], [0.0]]
INTRODUCTION_LEARNING_RATE = 0.1

# ---- 'Neural Networks from Scratch': the 3-4-1 network on one example
HANDOUT_X = [1.0, 3.0, 5.0]  # input_nodes <- c(1, 3, 5)
HANDOUT_Y = 1.0  # label <- 1
HANDOUT_LEARNING_RATE = 0.01  # eta <- 0.01
#: weights_i_h1 <- c(0.5, 1.2, -0.3) is column h1; the columns of h2..h4 are
#: ours (the handout leaves them to the reader). Row i: the weights leaving input i.
HANDOUT_W_INPUT_HIDDEN = [[0.5, 0.1, -0.4, 0.3], [1.2, -0.2, 0.2, 0.1], [-0.3, 0.3, 0.1, -0.2]]
HANDOUT_W_HIDDEN_OUTPUT = [0.8, -1.2, 0.5, -0.3]  # the exercise's weights for h1..h4
HANDOUT_HIDDEN_BIASES = [0.0, 0.0, 0.0, 0.0]  # "we assume it to be zero here"
#: The output activation the handout assumes for its worked step.
HANDOUT_OUTPUT_ACTIVATION = 0.6


def alice_example(learning_rate=INTRODUCTION_LEARNING_RATE):
    """The 2-2-1 network of 'Introduction to Neural Networks', on Alice.

    Every weight 1, every bias 0, logistic hidden and output nodes, squared
    error; Alice is x = (-2, -1) (weight and height, centred), y = 1.

    Returns
    -------
    network : MLPRegressor
        Fitted, with the document's weights, ``learning_rate_init=learning_rate``.
    x : list of float
    y : float
    """
    net = _network_with_weights(ALICE_COEFS, ALICE_INTERCEPTS, [ALICE_X], [ALICE_Y], learning_rate)
    return net, ALICE_X, ALICE_Y


def handout_example(learning_rate=HANDOUT_LEARNING_RATE):
    """The 3-4-1 network of 'Neural Networks from Scratch', on x = (1, 3, 5), y = 1.

    The output bias is set so that the output activation is the handout's
    assumed 0.6.

    Returns
    -------
    network : MLPRegressor
        Fitted, with the handout's weights, ``learning_rate_init=learning_rate``.
    x : list of float
    y : float
    """
    x, y = HANDOUT_X, HANDOUT_Y
    hidden = [
        1.0 / (1.0 + np.exp(-sum(x[i] * HANDOUT_W_INPUT_HIDDEN[i][j] for i in range(3))))
        for j in range(4)
    ]
    a = HANDOUT_OUTPUT_ACTIVATION
    output_bias = np.log(a / (1 - a)) - sum(w * h for w, h in zip(HANDOUT_W_HIDDEN_OUTPUT, hidden))
    net = _network_with_weights(
        [HANDOUT_W_INPUT_HIDDEN, [[w] for w in HANDOUT_W_HIDDEN_OUTPUT]],
        [HANDOUT_HIDDEN_BIASES, [output_bias]],
        [x],
        [y],
        learning_rate,
    )
    return net, x, y


def _alice_notes(trace):
    w1 = trace.layers[0].weight_gradient[0, 0]
    return [
        "The document: h1 = h2 = f(-3) = 0.0474, o1 = f(0.0948) = 0.524 "
        "(above: activation of h1, h2, o1).",
        "Its loss is the FULL squared error (1 - y_pred)^2, twice scikit-learn's half "
        "squared error,\nso its derivatives are twice the gradients above:",
        f"  dL/dw1 = 2 x {format_number(w1)} = {2 * w1:.4f}",
        "  (the document: -0.952 x 0.249 x -0.0904 = 0.0214, from factors rounded to 3 digits)",
    ]


def _handout_notes(trace):
    hidden, output = trace.layers
    delta_o = output.delta[0]
    return [
        "The handout: net input of h1 = 2.6, activation = sigmoid(2.6) = 0.9308616 (above: h1).",
        "Its delta is 2 (y - a) a (1 - a) = -dLoss/dnet for the FULL squared error: -2 x ours.",
        f"  delta_o = -2 x {format_number(delta_o)} = {-2 * delta_o:.6f}   (the handout: 0.192)",
        "  weight change h1 -> o = eta x delta_o x h1 = 2 x "
        f"{format_number(output.weight_change[0, 0])} = {2 * output.weight_change[0, 0]:.9f}"
        "   (the handout: 0.001787254)",
        f"  delta_h1 = w x delta_o x h1 (1 - h1) = -2 x {format_number(hidden.delta[0])} = "
        f"{-2 * hidden.delta[0]:.9f}   with the weight BEFORE the step, 0.8",
        "  (the handout multiplies by the updated weight 0.8017873 and prints 0.009907519).",
    ]


#: name -> (title, builder, default learning rate, notes)
EXAMPLES = {
    "alice": (
        "The 2-2-1 network of 'Introduction to Neural Networks' on Alice: every weight 1, "
        "every bias 0,\nsigmoid (logistic) hidden and output nodes, squared error.",
        alice_example,
        0.1,
        _alice_notes,
    ),
    "handout": (
        "The 3-4-1 network of 'Neural Networks from Scratch': sigmoid hidden and output "
        "nodes, squared error,\ninput (1, 3, 5), label 1, output activation 0.6.",
        handout_example,
        0.01,
        _handout_notes,
    ),
}


def run_trace(example="alice", learning_rate=None, out=None):
    """Print the trace of one of the handouts' examples; return 0."""
    out = sys.stdout if out is None else out
    title, build, default_rate, notes = EXAMPLES[example]
    learning_rate = default_rate if learning_rate is None else learning_rate
    net, x, y = build(learning_rate)
    trace = trace_step(net, x, y)
    print(title, file=out)
    print(
        "One plain gradient-descent step (no momentum), computed by numba-mlp's "
        "training kernels.\n",
        file=out,
    )
    print(format_trace(trace), file=out)
    print("", file=out)
    print("\n".join(notes(trace)), file=out)
    return 0
