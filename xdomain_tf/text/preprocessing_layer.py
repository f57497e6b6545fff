"""`PreprocessingLayer`: the base of the text layers, which take strings and ids as they are."""
import keras

from xdomain_tf.errors import XDomainError


class PreprocessingLayer(keras.layers.Layer):
    """A weightless Keras layer whose inputs (strings, integer ids) go through unconverted.

    Keras converts a layer's positional arguments to tensors of the layer's dtype; strings
    would fail and ids would turn into floats. As keras-hub's `PreprocessingLayer`, the
    layer is built from the start (it has no weights to create from an input shape).

    Subclasses set `default_dtype`, the dtype when the constructor gets none (None leaves
    Keras's default).

    Example:

    >>> import tensorflow as tf
    >>> class Upper(PreprocessingLayer):
    ...     def call(self, texts):
    ...         return tf.strings.upper(texts)
    >>> Upper()(tf.constant(["hi"])).numpy().tolist()
    [b'HI']
    """

    default_dtype = None

    def __init__(self, **kwargs):
        if kwargs.get("dtype") is None and self.default_dtype is not None:
            kwargs["dtype"] = self.default_dtype
        super().__init__(**kwargs)
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        self.built = True


def deserialize_tokenizer(tokenizer):
    """`tokenizer` itself when it is a `WordPieceTokenizer`, or the one its serialized
    config (a dict, as `get_config` stores it) describes; an XDomainError otherwise.

    Example:

    >>> from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer
    >>> tokenizer = WordPieceTokenizer(["[UNK]", "a"], lowercase=False)
    >>> deserialize_tokenizer(keras.saving.serialize_keras_object(tokenizer)).lowercase
    False
    >>> deserialize_tokenizer("vocab.txt")
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: tokenizer must be a WordPieceTokenizer, got str
    """
    from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer

    if isinstance(tokenizer, dict):
        tokenizer = keras.saving.deserialize_keras_object(tokenizer)
    if not isinstance(tokenizer, WordPieceTokenizer):
        raise XDomainError(f"tokenizer must be a WordPieceTokenizer, got {type(tokenizer).__name__}")
    return tokenizer
