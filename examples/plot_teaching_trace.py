"""
The teaching trace of one step
==============================

:func:`numba_mlp.trace_step` runs one training example through a network with
the same kernels that train it, and keeps every number of one plain
gradient-descent step: each node's net input, activation and delta, each
weight's gradient and change.

The network is the 2-2-1 example of the handout 'Introduction to Neural
Networks': two inputs (Alice's weight and height, centred), two logistic hidden
nodes and one logistic output node, every weight 1, every bias 0, squared
error, target 1. Deltas are dLoss/dnet for scikit-learn's half squared error
(see :doc:`/algorithm` and :doc:`/trace`).
"""

import matplotlib.pyplot as plt

from numba_mlp import trace_step
from numba_mlp.worked_examples import alice_example

net, x, y = alice_example(learning_rate=0.1)
trace = trace_step(net, x, y)

# %%
# The trace as tables
# -------------------
# ``print(trace)`` shows the forward pass, the backward pass and every weight.

print(trace)

# %%
# The trace on the network
# ------------------------
# Each node shows its net input, activation and delta; each connection its
# weight, gradient and change (learning rate 0.1). A connection is drawn red
# when its gradient is positive (the step lowers the weight) and blue when it
# is negative (the step raises it).

hidden, output = trace.layers
positions = {  # node name -> (x, y) on the figure
    "x1": (0.0, 1.0),
    "x2": (0.0, -1.0),
    "h1": (1.0, 1.0),
    "h2": (1.0, -1.0),
    "o1": (2.0, 0.0),
}
node_text = {
    "x1": f"x1 = {trace.x[0]:g}",
    "x2": f"x2 = {trace.x[1]:g}",
}
for layer, names in ((hidden, ("h1", "h2")), (output, ("o1",))):
    for j, name in enumerate(names):
        node_text[name] = (
            f"{name} ({layer.activation_function})\n"
            f"net = {layer.net_input[j]:.6f}\n"
            f"a = {layer.activation[j]:.6f}\n"
            f"delta = {layer.delta[j]:.6f}\n"
            f"bias change = {layer.bias_change[j]:+.6f}"
        )
node_text["o1"] += f"\ntarget y = {trace.target[0]:g}, loss = {trace.loss:.6f}"
colors = {"x": "0.85", "h": "#c6dbef", "o": "#fdd0a2"}

fig, ax = plt.subplots(figsize=(11, 6))
number = 0
for layer, sources, targets, where in (
    (hidden, ("x1", "x2"), ("h1", "h2"), 0.3),
    (output, ("h1", "h2"), ("o1",), 0.5),
):
    for j, target in enumerate(targets):
        for i, source in enumerate(sources):
            number += 1
            (x0, y0), (x1, y1) = positions[source], positions[target]
            gradient = layer.weight_gradient[i, j]
            ax.plot(
                [x0, x1], [y0, y1], color="C3" if gradient > 0 else "C0", linewidth=1.5, zorder=1
            )
            ax.text(
                x0 + where * (x1 - x0),
                y0 + where * (y1 - y0),
                f"w{number} = {layer.weights[i, j]:g}\n"
                f"gradient {gradient:+.6f}\nchange {layer.weight_change[i, j]:+.6f}",
                ha="center",
                va="center",
                fontsize=8,
                zorder=2,
                bbox=dict(boxstyle="round", facecolor="white", edgecolor="0.6"),
            )
for name, (x0, y0) in positions.items():
    ax.text(
        x0,
        y0,
        node_text[name],
        ha="center",
        va="center",
        fontsize=9,
        family="monospace",
        zorder=3,
        bbox=dict(boxstyle="round,pad=0.5", facecolor=colors[name[0]], edgecolor="k"),
    )
ax.set_xlim(-0.35, 2.45)
ax.set_ylim(-1.6, 1.6)
ax.axis("off")
ax.set_title(
    "One gradient-descent step of the 2-2-1 network on Alice "
    "(forward: net, a; backward: delta; change = -0.1 x gradient)"
)
fig.tight_layout()
plt.show()
