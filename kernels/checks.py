"""Size checks the public kernels make before they read anything.

The kernels index their arrays without bounds checks: an array of the wrong
size would be read or written out of bounds, corrupting memory instead of
raising. The estimators always pass arrays that fit; these checks are for
anyone calling a kernel directly, and cost a pass over the row indices (and
over a CSR matrix's column indices), nothing beside an epoch's work.
"""

from ._jit import kernel
from .layout import n_params


@kernel(inline=True)
def check_layer_units(layer_units):
    """The layer sizes make a network: two layers or more, a node or more each."""
    if layer_units.shape[0] < 2:
        raise ValueError("layer_units must list at least two layers of at least one node")
    for units in layer_units:
        if units < 1:
            raise ValueError("layer_units must list at least two layers of at least one node")


@kernel(inline=True)
def check_layers(layer_units, params):
    """The layer sizes make a network and ``params`` holds its weights and biases."""
    check_layer_units(layer_units)
    if params.shape[0] != n_params(layer_units):
        raise ValueError("the parameter vector does not fit the layer sizes")


@kernel(inline=True)
def check_network(net, params):
    """The layer sizes make a network, ``params`` holds its weights and biases,
    and the dropout rates are none or one per hidden layer."""
    layer_units = net.layer_units
    check_layers(layer_units, params)
    n_rates = net.dropout_rates.shape[0]
    if n_rates != 0 and n_rates != layer_units.shape[0] - 2:
        raise ValueError("dropout_rates must be empty or give one rate per hidden layer")


@kernel(inline=True)
def check_work(net, work, batch_rows, backward):
    """``work``'s buffers hold ``batch_rows`` samples of every layer (their
    deltas too when ``backward``)."""
    layer_units = net.layer_units
    node_count = 0
    for layer in range(1, layer_units.shape[0]):
        node_count += work.max_rows * layer_units[layer]
    n_outputs = layer_units[layer_units.shape[0] - 1]
    if (
        batch_rows < 1
        or batch_rows > work.max_rows
        or work.activations.shape[0] != node_count
        or (backward and work.deltas.shape[0] != node_count)
        or (work.net_inputs.shape[0] != 0 and work.net_inputs.shape[0] != node_count)
        or (work.dropout_scales.shape[0] != 0 and work.dropout_scales.shape[0] != node_count)
        or work.output_net_inputs.shape[0] != work.max_rows
        or work.output_net_inputs.shape[1] != n_outputs
    ):
        raise ValueError("the work buffers do not fit the layer sizes and the batch size")


@kernel(inline=True)
def check_data(data, net):
    """The input has the network's number of features; return its number of samples."""
    n_features = net.layer_units[0]
    if not data.is_sparse:
        if data.X.shape[1] != n_features:
            raise ValueError("X does not have the network's number of features")
        return data.X.shape[0]
    indptr, indices = data.indptr, data.indices
    n_samples = indptr.shape[0] - 1
    if n_samples < 0 or indptr[0] != 0 or indptr[n_samples] > indices.shape[0]:
        raise ValueError("the CSR arrays of X do not fit together")
    if indices.shape[0] != data.values.shape[0]:
        raise ValueError("the CSR arrays of X do not fit together")
    for s in range(n_samples):
        if indptr[s + 1] < indptr[s]:
            raise ValueError("the CSR arrays of X do not fit together")
    for k in range(indptr[n_samples]):
        if indices[k] < 0 or indices[k] >= n_features:
            raise ValueError("X does not have the network's number of features")
    return n_samples


@kernel(inline=True)
def check_rows(rows, n_samples):
    """Every row index names a sample."""
    for s in range(rows.shape[0]):
        if rows[s] < 0 or rows[s] >= n_samples:
            raise ValueError("a row index does not name a sample of X")


@kernel(inline=True)
def check_problem(problem, net, n_samples):
    """One target row and one sample weight per sample, one target per output."""
    n_outputs = net.layer_units[net.layer_units.shape[0] - 1]
    targets = problem.targets
    if (
        targets.shape[0] != n_samples
        or targets.shape[1] != n_outputs
        or problem.sample_weight.shape[0] != n_samples
    ):
        raise ValueError("the targets or sample weights do not fit X and the output layer")


@kernel
def check_training(data, net, problem, rows, batch_rows, params, grads, work, backward):
    """Every size a training kernel relies on: network, gradient vector (when
    ``backward``), buffers, data, rows and targets."""
    check_network(net, params)
    if backward and grads.shape[0] != params.shape[0]:
        raise ValueError("the gradient vector does not fit the layer sizes")
    check_work(net, work, batch_rows, backward)
    n_samples = check_data(data, net)
    check_rows(rows, n_samples)
    check_problem(problem, net, n_samples)


@kernel
def check_optimizer(optimizer, params, adam):
    """The optimiser's moments hold one entry per parameter (Adam: both)."""
    if (
        optimizer.first_moments.shape[0] != params.shape[0]
        or (adam and optimizer.second_moments.shape[0] != params.shape[0])
        or optimizer.step.shape[0] < 1
    ):
        raise ValueError("the optimizer's moments do not fit the parameter vector")
