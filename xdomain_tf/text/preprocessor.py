"""Raw strings -> BERT inputs (token ids, segment ids, padding mask) in one TF graph."""
import keras
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.text.dense_packing import PAD_TO, TRUNCATIONS, check_pad_multiple, pack_segments
from xdomain_tf.text.preprocessing_layer import PreprocessingLayer, deserialize_tokenizer
from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer


@keras.saving.register_keras_serializable(package="xdomain_tf")
class Preprocessor(PreprocessingLayer):
    """Tokenizes text (or text pairs) and packs it as BERT encoder inputs.

    Rows are `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`, trimmed to
    `sequence_length`. The packing uses dense ops only (see
    `xdomain_tf.text.dense_packing`): the exported graph holds the tokenizer's ops
    plus builtin TF ops, no ragged op and no `RoundRobinTrim`, so it converts to
    TFLite and loads in TF Serving. Works in
    `tf.data.Dataset.map` on batched strings.

    Args:
        tokenizer: a `WordPieceTokenizer` (its vocabulary needs [PAD], [CLS] and
            [SEP]).
        sequence_length: the longest output row, special tokens included.
        truncation: `"round_robin"` (segments lose tokens in turn, as tensorflow-text's
            `RoundRobinTrimmer`) or `"longest_first"` (the longer segment first, as
            Hugging Face).
        pad_to: `"fixed"` (every row `sequence_length` long) or `"longest"` (pad to
            the longest row of the batch, at most `sequence_length`: faster on short
            texts).
        pad_to_multiple_of: with `pad_to="longest"`, round each batch's width up to a
            multiple of this (at most `sequence_length`): few distinct shapes.
        **kwargs: Keras layer arguments.

    Call arguments:
        inputs: a tf.string tensor [batch] (or a scalar: outputs then lose the batch
            axis), a dict with `"text"` and optional `"text_pair"`, or a tuple
            `(text,)` / `(text, text_pair)`.

    Returns:
        dict of int32 tensors [batch, length]: `token_ids`, `segment_ids`,
        `padding_mask`.

    Example:

    >>> tokenizer = WordPieceTokenizer(
    ...     ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"])
    >>> preprocessor = Preprocessor(tokenizer, sequence_length=6)
    >>> out = preprocessor({"text": tf.constant(["Hello"]), "text_pair": tf.constant(["world"])})
    >>> out["token_ids"].numpy().tolist(), out["segment_ids"].numpy().tolist()
    ([[2, 5, 3, 6, 3, 0]], [[0, 0, 0, 1, 1, 0]])
    """

    default_dtype = "int32"

    def __init__(
        self,
        tokenizer,
        sequence_length=128,
        truncation="round_robin",
        pad_to="fixed",
        pad_to_multiple_of=1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        tokenizer = deserialize_tokenizer(tokenizer)
        if truncation not in TRUNCATIONS:
            raise XDomainError(f"truncation must be one of {TRUNCATIONS}, got {truncation!r}")
        if pad_to not in PAD_TO:
            raise XDomainError(f"pad_to must be one of {PAD_TO}, got {pad_to!r}")
        check_pad_multiple(pad_to_multiple_of)
        if int(sequence_length) < 2:
            raise XDomainError(f"sequence_length must be >= 2, got {sequence_length}")
        self.tokenizer = tokenizer
        self.sequence_length = int(sequence_length)
        self.truncation = truncation
        self.pad_to = pad_to
        self.pad_to_multiple_of = pad_to_multiple_of
        if tokenizer.has_vocabulary:
            self._special_ids()  # fails now, with a clear message, if a special token is missing

    def _special_ids(self):
        tokenizer = self.tokenizer
        return tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id

    def with_options(self, **changes):
        """A Preprocessor sharing this one's tokenizer with some arguments changed
        (`sequence_length`, `truncation`, `pad_to`, `pad_to_multiple_of`).

        Example:

        >>> tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello"])
        >>> Preprocessor(tokenizer, 8).with_options(pad_to="longest").pad_to
        'longest'
        """
        arguments = {
            "sequence_length": self.sequence_length,
            "truncation": self.truncation,
            "pad_to": self.pad_to,
            "pad_to_multiple_of": self.pad_to_multiple_of,
            **changes,
        }
        return Preprocessor(self.tokenizer, **arguments)

    def call(self, inputs):
        texts = _segments(inputs)
        scalar = texts[0].shape.rank == 0
        for text in texts:
            if text.shape.rank != texts[0].shape.rank or text.shape.rank not in (0, 1):
                raise XDomainError(
                    "text and text_pair must both be scalars or both [batch] vectors, got "
                    + ", ".join(str(t.shape) for t in texts)
                )
        if scalar:
            texts = [text[tf.newaxis] for text in texts]
        cls_id, sep_id, pad_id = self._special_ids()
        outputs = pack_segments(
            [self.tokenizer.tokenize_flat(text) for text in texts],
            self.sequence_length,
            cls_id=cls_id,
            sep_id=sep_id,
            pad_id=pad_id,
            truncation=self.truncation,
            pad_to=self.pad_to,
            pad_to_multiple_of=self.pad_to_multiple_of,
        )
        if scalar:
            outputs = {key: value[0] for key, value in outputs.items()}
        return outputs

    def compute_output_spec(self, inputs):
        length = self.sequence_length if self.pad_to == "fixed" else None
        return {
            key: keras.KerasTensor((None, length), dtype="int32")
            for key in ("token_ids", "segment_ids", "padding_mask")
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "tokenizer": keras.saving.serialize_keras_object(self.tokenizer),
                "sequence_length": self.sequence_length,
                "truncation": self.truncation,
                "pad_to": self.pad_to,
                "pad_to_multiple_of": self.pad_to_multiple_of,
            }
        )
        return config


def _segments(inputs):
    if isinstance(inputs, dict):
        unknown = set(inputs) - {"text", "text_pair"}
        if "text" not in inputs or unknown:
            raise XDomainError(
                f'expected a dict with "text" and optional "text_pair", got keys {sorted(inputs)}'
            )
        texts = [inputs["text"]]
        if inputs.get("text_pair") is not None:
            texts.append(inputs["text_pair"])
    elif isinstance(inputs, tuple):
        if len(inputs) not in (1, 2):
            raise XDomainError(f"expected (text,) or (text, text_pair), got {len(inputs)} items")
        texts = list(inputs)
    else:
        texts = [inputs]
    return [tf.convert_to_tensor(text, dtype=tf.string) for text in texts]
