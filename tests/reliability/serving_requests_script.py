"""Feeds malformed inputs to every signature of a SavedModel the way TF Serving does (a
session callable: no client-side shape check) and prints one JSON line per request.

Usage: python serving_requests_script.py SAVED_MODEL_DIR
"""
import json
import sys

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  (the tokenizer ops)
from tensorflow.core.protobuf import config_pb2

path = sys.argv[1]
graph = tf.Graph()
with tf.compat.v1.Session(graph=graph) as session:
    meta = tf.compat.v1.saved_model.load(session, ["serve"], path)
    bad_values = {
        "scalar": lambda dtype: np.array("x" if dtype == tf.string else 3, dtype=object if dtype == tf.string else np.int32),
        "matrix": lambda dtype: np.array([["x"]] if dtype == tf.string else [[[3]]], dtype=object if dtype == tf.string else np.int32),
    }
    for name, signature in sorted(meta.signature_def.items()):
        inputs = dict(signature.inputs)
        outputs = [info.name for info in signature.outputs.values()]
        for kind, make in bad_values.items():
            for broken in inputs:
                feeds = {}
                for key, info in inputs.items():
                    dtype = tf.dtypes.as_dtype(info.dtype)
                    if key == broken:
                        feeds[key] = make(dtype)
                    elif dtype == tf.string:
                        feeds[key] = np.array([b"news"], dtype=object)
                    else:
                        feeds[key] = np.array([[2, 5, 3]], np.int32)
                options = config_pb2.CallableOptions(fetch=outputs, feed=[inputs[k].name for k in feeds])
                run = session._make_callable_from_options(options)
                try:
                    run(*feeds.values())
                    outcome = "ok"
                except tf.errors.InvalidArgumentError as error:
                    outcome = "InvalidArgumentError: " + error.message.splitlines()[0]
                print(json.dumps({"signature": name, "input": broken, "kind": kind, "outcome": outcome}), flush=True)
print(json.dumps({"done": True}))
