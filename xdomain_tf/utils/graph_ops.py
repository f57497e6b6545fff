"""Lists the op types in TensorFlow graphs, including nested functions.

Used to check that an exported graph only holds ops its runtime supports (no
ragged ops for TFLite / older TF Serving, no `RoundRobinTrim`, ...).
"""
from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.storage import storage_path


def op_types(concrete_function):
    """The op types a concrete function runs, with those of every function it calls.

    Args:
        concrete_function: a `tf.function(...).get_concrete_function(...)` result
            (or a SavedModel signature).

    Returns:
        sorted list of op type names.

    Example:

    >>> import tensorflow as tf
    >>> f = tf.function(lambda x: tf.strings.length(x) + 1)
    >>> op_types(f.get_concrete_function(tf.TensorSpec([None], tf.string)))
    ['AddV2', 'Const', 'Identity', 'Placeholder', 'StringLength']
    """
    graph_def = concrete_function.graph.as_graph_def()
    return sorted(_reachable_op_types(graph_def.node, graph_def.library))


def saved_model_op_types(path, signature_key="serving_default", tags=("serve",)):
    """The op types a SavedModel signature runs, read from `saved_model.pb`.

    The file is parsed, not loaded, so custom ops (tensorflow-text) need not be
    registered.

    Args:
        path: the SavedModel folder.
        signature_key: the signature (e.g. "serving_default"); None for every op
            in the file.
        tags: the MetaGraph's tags.

    Returns:
        sorted list of op type names.

    Example:

    >>> import tempfile
    >>> import tensorflow as tf
    >>> module = tf.Module()
    >>> module.f = tf.function(lambda x: {"length": tf.strings.length(x) + 1}, autograph=False,
    ...                        input_signature=[tf.TensorSpec([None], tf.string)])
    >>> path = tempfile.mkdtemp()
    >>> tf.saved_model.save(module, path, signatures=module.f)
    >>> saved_model_op_types(path)
    ['AddV2', 'Const', 'Identity', 'PartitionedCall', 'Placeholder', 'StringLength']
    """
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((storage_path(path) / "saved_model.pb").read_bytes())
    for meta_graph in saved_model.meta_graphs:
        if set(meta_graph.meta_info_def.tags) == set(tags):
            break
    else:
        raise XDomainError(f"{path}: no MetaGraph with tags {list(tags)}")
    graph_def = meta_graph.graph_def
    if signature_key is None:
        types = {node.op for node in graph_def.node}
        for function in graph_def.library.function:
            types.update(node.op for node in function.node_def)
        return sorted(types)
    if signature_key not in meta_graph.signature_def:
        raise XDomainError(
            f"{path}: no signature {signature_key!r} (has {sorted(meta_graph.signature_def)})"
        )
    signature = meta_graph.signature_def[signature_key]
    by_name = {node.name: node for node in graph_def.node}
    wanted = [info.name.split(":")[0] for info in signature.outputs.values()]
    nodes, seen = [], set()
    while wanted:
        name = wanted.pop().lstrip("^").split(":")[0]
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        node = by_name[name]
        nodes.append(node)
        wanted.extend(node.input)
    return sorted(_reachable_op_types(nodes, graph_def.library))


def _reachable_op_types(nodes, library):
    functions = {function.signature.name: function for function in library.function}
    types = set()
    pending = list(nodes)
    visited = set()
    while pending:
        node = pending.pop()
        called = set(_called_functions(node))
        if node.op in functions:
            called.add(node.op)  # A direct call: the op type is the function's name.
        else:
            types.add(node.op)
        for name in called:
            if name in visited or name not in functions:
                continue
            visited.add(name)
            pending.extend(functions[name].node_def)
    return types


def _called_functions(node):
    for value in node.attr.values():
        if value.HasField("func"):
            yield value.func.name
        elif value.HasField("list"):
            for function in value.list.func:
                yield function.name
