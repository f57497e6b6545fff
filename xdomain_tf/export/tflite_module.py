"""`TFLiteModule`: the graph a TFLite file is converted from: one signature at the full
sequence length, and one per shorter length bucket."""
import tensorflow as tf

from xdomain_tf.export.serving_module import _Hidden
from xdomain_tf.errors import XDomainError

IDS_INPUTS = ("token_ids", "segment_ids", "padding_mask")


def default_length_buckets(sequence_length):
    """Powers of two from 16 below `sequence_length`: the shorter static lengths a TFLite
    file of packed ids gets a signature for.

    >>> default_length_buckets(128), default_length_buckets(16)
    ([16, 32, 64], [])
    """
    buckets, length = [], 16
    while length < sequence_length:
        buckets.append(length)
        length *= 2
    return buckets


def bucket_signature(lengths, width):
    """The signature for packed rows `width` tokens long: the shortest `length_<n>` with
    `n >= width` among `lengths` (`{signature: length}`, `serving_default` included).

    >>> bucket_signature({"serving_default": 128, "length_16": 16, "length_32": 32}, 20)
    'length_32'
    >>> bucket_signature({"serving_default": 128}, 20)
    'serving_default'
    """
    fitting = [(length, name) for name, length in lengths.items() if length >= width]
    return min(fitting)[1] if fitting else "serving_default"


def export_twin(model, **layer_options):
    """A copy of `model` built from its config with other layer options, holding its weights.

    Every dict in `model.get_config()` (recursively, so the serialized encoder inside a
    classifier's config too) that has one of the `layer_options` keys gets the new value;
    the copy is built with `type(model).from_config` and gets the weights with
    `set_weights(model.get_weights())`. The model itself and all global state (Keras
    classes, xdomain_tf modules) are left untouched. Works for any model whose config
    carries the options, e.g. a classifier around a `TransformerEncoder`, whose config has
    `attention_mask_mode` and `layer_norm_mode`.

    Args:
        model: a Keras model with `get_config`/`from_config`.
        **layer_options: config keys and their new values, e.g.
            `attention_mask_mode="bounded", layer_norm_mode="matmul_variance"`.

    Returns:
        The new model (same class, same weights, the given options). State that is neither
        config nor weights (a tokenizer vocabulary, stored as an asset) is not copied.

    Raises:
        XDomainError: a key is not in the model's config (the copy would not differ).

    Example:

    >>> import numpy as np
    >>> from xdomain_tf.models import EncoderConfig, build_encoder
    >>> from xdomain_tf.models.multi_domain_classifier import MultiDomainClassifier
    >>> encoder = build_encoder(EncoderConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1,
    ...                                       num_attention_heads=2, intermediate_size=64))
    >>> model = MultiDomainClassifier(encoder, {"news": ["business", "sport"]})
    >>> twin = export_twin(model, attention_mask_mode="bounded", layer_norm_mode="matmul_variance")
    >>> twin.encoder.layer_norm_mode, model.encoder.layer_norm_mode
    ('matmul_variance', 'standard')
    >>> ids = np.array([[2, 5, 3, 0]], "int32")
    >>> inputs = {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": np.array([[1, 1, 1, 0]], "int32"),
    ...           "domain_id": np.array([0], "int32")}
    >>> bool(np.allclose(twin(inputs)["news"], model(inputs)["news"], atol=1e-5))
    True
    """
    found = set()

    def replace(value):
        if isinstance(value, dict):
            replaced = {key: replace(item) for key, item in value.items()}
            for key in layer_options.keys() & value.keys():
                replaced[key] = layer_options[key]
                found.add(key)
            return replaced
        if isinstance(value, (list, tuple)):
            return type(value)(replace(item) for item in value)
        return value

    config = replace(model.get_config())
    missing = sorted(set(layer_options) - found)
    if missing:
        raise XDomainError(f"{type(model).__name__} {model.name!r}: no {', '.join(missing)} in its config to change")
    twin = type(model).from_config(config)
    twin.set_weights(model.get_weights())
    return twin


class TFLiteModule(tf.Module):
    """A classifier with static sequence lengths, for conversion to TFLite.

    Its signature `serving_default` takes either packed ids (`token_ids`,
    `segment_ids`, `padding_mask`: int32 `[batch, sequence_length]`) or, with
    `with_tokenizer`, raw `text` (tf.string `[batch]`), plus `domain_id` (int32 `[batch]`,
    the domain's index in the labels file). Outputs: `probabilities` (float32
    `[batch, max_labels]`, zeros past the domain's labels), `label_id` (int32 `[batch]`)
    and `score` (float32 `[batch]`). A `domain_id` outside `[0, domains)` makes the
    interpreter's invoke fail (gather index out of bounds).

    With `length_buckets` (packed ids only), `signatures()` adds `length_<n>` for each
    bucket `n`: the same graph and the same weights (stored once in the file) at `n`
    positions, so a short text does not pay for `sequence_length` of them. Rows are
    packed at the full length and cut to the shortest bucket that holds them
    (`bucket_signature`); the outputs are the same, padding being masked.

    The graph is traced from an `export_twin` of the model: the same weights, with
    `attention_mask_mode="bounded"` (equal to the Keras model in float32; int8 quantization
    then keeps the attention scores apart) and, `for_int8`, `layer_norm_mode=
    "matmul_variance"` (also equal in float32, but slower there: 1.3 -> 2.2 ms at batch 1
    for a 2-layer, hidden-128 model). The given model is not changed.

    Routing and softmax are the classifier's own `route` (traced on the twin).

    Args:
        model: the `MultiDomainTextClassifier`.
        preprocessor: the `Preprocessor` (default: the classifier's); with
            `with_tokenizer` it runs in the graph (padded to its `sequence_length`).
        with_tokenizer: take raw text (tensorflow-text TFLite custom ops tokenize it).
        for_int8: build the graph for full-integer quantization.
        length_buckets: shorter sequence lengths that get a signature of their own.

    Example:

        module = TFLiteModule(clf, length_buckets=[16, 32, 64])
        tf.saved_model.save(module, path, signatures=module.signatures())
    """

    def __init__(self, model, preprocessor=None, with_tokenizer=False, for_int8=False, length_buckets=()):
        super().__init__(name="xdomain_tflite")
        domains = getattr(model, "domains", None)
        if not domains or not hasattr(model, "route"):
            raise XDomainError("the model is not a MultiDomainTextClassifier")
        preprocessor = preprocessor or model.preprocessor
        if preprocessor is None:
            raise XDomainError("the classifier has no preprocessor")
        if preprocessor.pad_to != "fixed":
            # Not from_config: the tokenizer's vocabulary is an asset, not config.
            preprocessor = preprocessor.with_options(pad_to="fixed")
        layer_options = {"attention_mask_mode": "bounded"}
        if for_int8:
            layer_options["layer_norm_mode"] = "matmul_variance"
        twin = export_twin(model, **layer_options)
        self._keras = _Hidden(model=twin, preprocessor=preprocessor)
        self.model_variables = [variable.value if hasattr(variable, "value") else variable for variable in twin.variables]
        self.domain_names = list(domains)
        self.max_labels = max(len(labels) for labels in domains.values())
        self.sequence_length = preprocessor.sequence_length
        self.with_tokenizer = with_tokenizer
        self.for_int8 = for_int8
        buckets = sorted({int(length) for length in length_buckets})
        if buckets and with_tokenizer:
            raise XDomainError("length_buckets need packed ids: a file with the tokenizer has one length")
        for length in buckets:
            if not 2 < length < self.sequence_length:
                raise XDomainError(
                    f"length_buckets must lie between 3 and sequence_length - 1 ({self.sequence_length - 1}), "
                    f"got {length}"
                )
        self.length_buckets = buckets

    def signature_lengths(self):
        """`{signature name: sequence length}` of every signature."""
        return {"serving_default": self.sequence_length, **{f"length_{n}": n for n in self.length_buckets}}

    @property
    def preprocessor(self):
        """The Preprocessor used (padding to the fixed sequence length)."""
        return self._keras.preprocessor

    def _classify(self, features, domain_id):
        inputs = {name: features[name] for name in IDS_INPUTS}
        inputs["domain_id"] = domain_id
        return self._keras.model.route(self._keras.model(inputs, training=False), domain_id)

    def signatures(self):
        """`{signature name: concrete function}`, every signature of `signature_lengths`."""
        return {name: self.signature(length) for name, length in self.signature_lengths().items()}

    def signature(self, sequence_length=None):
        """The concrete function at `sequence_length` positions (default: the full length,
        the `serving_default` signature)."""
        domain_id = tf.TensorSpec([None], tf.int32, name="domain_id")
        if self.with_tokenizer:
            def classify_text(text, domain_id):
                return self._classify(self._keras.preprocessor(text), domain_id)

            return tf.function(classify_text, autograph=False).get_concrete_function(
                tf.TensorSpec([None], tf.string, name="text"), domain_id
            )

        ids = tf.TensorSpec([None, sequence_length or self.sequence_length], tf.int32)

        def classify_ids(token_ids, segment_ids, padding_mask, domain_id):
            features = {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}
            return self._classify(features, domain_id)

        return tf.function(classify_ids, autograph=False).get_concrete_function(
            tf.TensorSpec.from_spec(ids, name="token_ids"),
            tf.TensorSpec.from_spec(ids, name="segment_ids"),
            tf.TensorSpec.from_spec(ids, name="padding_mask"),
            domain_id,
        )
