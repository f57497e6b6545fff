import json
import math
import os
import subprocess
import sys
import textwrap

# Logical devices must be configured before TensorFlow initialises its devices, so the
# strategy runs in a fresh process.
_MIRRORED = textwrap.dedent(
    """
    import functools, json
    import tensorflow as tf
    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0],
        [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    import keras
    from xdomain_tf.data import LabelSpace, distribute, make_dataset
    from xdomain_tf.text.preprocessor import Preprocessor
    from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer

    tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "w"])

    records = [{"text": "w " * (1 + i % 9), "label": str(i % 2), "domain": d, "id": f"{d}{i}"}
               for d, n in [("a", 37), ("b", 11)] for i in range(n)]
    space = LabelSpace.from_records(records)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    make = functools.partial(make_dataset, records, Preprocessor(tokenizer, 16), space, 8,
                             training=False, keep_ids=True)
    ids, sizes, widths = [], set(), set()
    for features, _ in distribute(make, strategy):
        for replica in strategy.experimental_local_results(features["id"]):
            ids.extend(x.decode() for x in replica.numpy())
            sizes.add(int(replica.shape[0]))
        step = strategy.experimental_local_results(features["token_ids"])
        widths.add(len({int(replica.shape[1]) for replica in step}))

    with strategy.scope():
        token_ids = keras.Input((None,), dtype="int32", name="token_ids")
        domain_id = keras.Input((), dtype="int32", name="domain_id")
        pooled = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(500, 8)(token_ids))
        outputs = {d: keras.layers.Dense(2, name=d)(pooled) for d in space.domains}
        model = keras.Model({"token_ids": token_ids, "domain_id": domain_id}, outputs)
        loss = {d: keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
                for d in space.domains}
        model.compile(optimizer="sgd", loss=loss)
    train = functools.partial(make_dataset, records, Preprocessor(tokenizer, 16), space, 8, seed=0)
    def model_inputs(features, targets):
        return {k: features[k] for k in ("token_ids", "domain_id")}, targets
    history = model.fit(distribute(lambda input_context: train(input_context=input_context)
                                   .map(model_inputs), strategy), epochs=1, verbose=0)
    plain = model.fit(train().map(model_inputs), epochs=1, verbose=0)
    print(json.dumps({"replicas": strategy.num_replicas_in_sync, "ids": sorted(ids),
                      "sizes": sorted(sizes), "widths": sorted(widths), "loss": history.history["loss"][0],
                      "plain_loss": plain.history["loss"][0]}))
    """
)


def test_mirrored_strategy_over_two_logical_cpus(tmp_path):
    script = tmp_path / "mirrored.py"
    script.write_text(_MIRRORED)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    done = subprocess.run([sys.executable, str(script)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    assert result["ids"] == sorted([f"a{i}" for i in range(37)] + [f"b{i}" for i in range(11)])
    assert max(result["sizes"]) == 4  # global batch 8 split over 2 replicas
    assert result["widths"] == [1]  # the replicas of a step share the padded width
    assert math.isfinite(result["loss"]) and result["loss"] > 0
    assert math.isfinite(result["plain_loss"]) and result["plain_loss"] > 0
