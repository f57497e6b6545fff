import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text as tf_text
from text_fixtures import CORPUS, PROBES
from tokenizers import BertWordPieceTokenizer

from xdomain_tf.errors import XDomainError
from xdomain_tf.text import Preprocessor, WordPieceTokenizer
from xdomain_tf.utils.graph_ops import op_types, saved_model_op_types

TFLITE_BUILTIN_TF_OPS = {
    "AddV2", "Cast", "ConcatV2", "Equal", "ExpandDims", "Fill", "FloorDiv", "FloorMod",
    "GatherV2", "Greater", "GreaterEqual", "Less", "LessEqual", "LogicalAnd", "Max", "Maximum",
    "Minimum", "Mul", "OnesLike", "Pack", "Range", "Reshape", "SelectV2", "StridedSlice", "Sub",
    "ZerosLike",
}  # fmt: skip
ODD_TEXTS = [b"", b"   ", b"a" * 100_000, b"bad\xff\xfebytes", b"nul\x00and\x01controls", "Straße 東京 😀".encode()]


class ServingModule(tf.Module):
    def __init__(self, preprocessor, pair=False):
        super().__init__()
        self.preprocessor = preprocessor
        if pair:
            self.serve = tf.function(
                lambda text, text_pair: preprocessor({"text": text, "text_pair": text_pair}),
                input_signature=[tf.TensorSpec([None], tf.string)] * 2,
            )
        else:
            self.serve = tf.function(
                lambda text: preprocessor(text), input_signature=[tf.TensorSpec([None], tf.string)]
            )


def export(preprocessor, path, pair=False):
    module = ServingModule(preprocessor, pair)
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    return module


def test_single_and_pair_packing(vocab_file):
    tokenizer = WordPieceTokenizer(vocab_file)
    preprocessor = Preprocessor(tokenizer, sequence_length=12)
    out = preprocessor(tf.constant(["The quick brown fox", ""]))
    ids = tokenizer.tokenize("the quick brown fox").numpy().tolist()
    assert out["token_ids"].dtype == tf.int32 and out["token_ids"].shape == (2, 12)
    assert out["token_ids"][0].numpy().tolist()[: len(ids) + 2] == [2] + ids + [3]
    assert out["token_ids"][1].numpy().tolist() == [2, 3] + [0] * 10
    assert out["padding_mask"].numpy().sum(axis=1).tolist() == [len(ids) + 2, 2]
    pair = preprocessor({"text": tf.constant(["fox"]), "text_pair": tf.constant(["dog"])})
    fox, dog = tokenizer.tokenize("fox").numpy().tolist(), tokenizer.tokenize("dog").numpy().tolist()
    expected = [2] + fox + [3] + dog + [3]
    assert pair["token_ids"][0].numpy().tolist()[: len(expected)] == expected
    assert pair["segment_ids"][0].numpy().tolist()[: len(expected)] == [0] * (len(fox) + 2) + [1] * (
        len(dog) + 1
    )
    as_tuple = preprocessor((tf.constant(["fox"]), tf.constant(["dog"])))
    np.testing.assert_array_equal(as_tuple["token_ids"], pair["token_ids"])
    scalar = preprocessor("The quick brown fox")
    assert scalar["token_ids"].shape == (12,)
    np.testing.assert_array_equal(scalar["token_ids"], out["token_ids"][0])


def test_packed_ids_equal_hugging_face(vocab_file):
    hf = BertWordPieceTokenizer(str(vocab_file), lowercase=True)
    hf.enable_truncation(16, strategy="longest_first")
    hf.enable_padding(length=16)
    preprocessor = Preprocessor(WordPieceTokenizer(vocab_file), 16, truncation="longest_first")
    firsts, seconds = PROBES + CORPUS, (CORPUS + PROBES)[::-1]
    ours = preprocessor({"text": tf.constant(firsts), "text_pair": tf.constant(seconds)})
    encodings = hf.encode_batch(list(zip(firsts, seconds)))
    assert ours["token_ids"].numpy().tolist() == [e.ids for e in encodings]
    assert ours["segment_ids"].numpy().tolist() == [e.type_ids for e in encodings]
    assert ours["padding_mask"].numpy().tolist() == [e.attention_mask for e in encodings]


def test_pad_to_longest_and_tf_data(vocab_file):
    preprocessor = Preprocessor(WordPieceTokenizer(vocab_file), 64, pad_to="longest")
    fixed = Preprocessor(WordPieceTokenizer(vocab_file), 64)
    dataset = tf.data.Dataset.from_tensor_slices(CORPUS).batch(4)
    for batch, out in zip(dataset, dataset.map(preprocessor)):
        width = int(out["padding_mask"].numpy().sum(axis=1).max())
        assert out["token_ids"].shape == (len(batch), width)
        np.testing.assert_array_equal(out["token_ids"], fixed(batch)["token_ids"][:, :width])
    pairs = tf.data.Dataset.from_tensor_slices({"text": CORPUS, "text_pair": CORPUS[::-1]}).batch(8)
    shapes = [out["segment_ids"].shape for out in pairs.map(fixed)]
    assert shapes[0] == (8, 64) and len(shapes) == 4


def test_odd_inputs(vocab_file):
    preprocessor = Preprocessor(WordPieceTokenizer(vocab_file), 8)
    out = preprocessor(tf.constant(ODD_TEXTS))
    assert out["token_ids"].shape == (len(ODD_TEXTS), 8)
    assert out["token_ids"][0].numpy().tolist() == [2, 3, 0, 0, 0, 0, 0, 0]
    assert out["token_ids"][2].numpy().tolist()[:3] == [2, 1, 3]
    empty = preprocessor(tf.constant([], tf.string))
    assert empty["token_ids"].shape == (0, 8)
    empty_pair = Preprocessor(WordPieceTokenizer(vocab_file), 8, pad_to="longest")(
        (tf.constant([], tf.string), tf.constant([], tf.string))
    )
    assert empty_pair["token_ids"].shape == (0, 0)


def test_errors(vocab_file):
    tokenizer = WordPieceTokenizer(vocab_file)
    with pytest.raises(XDomainError, match="truncation"):
        Preprocessor(tokenizer, truncation="middle")
    with pytest.raises(XDomainError, match="pad_to"):
        Preprocessor(tokenizer, pad_to="max")
    with pytest.raises(XDomainError, match=r"no \[CLS\] token"):
        Preprocessor(WordPieceTokenizer(["[PAD]", "[UNK]", "[SEP]", "a"]))
    with pytest.raises(XDomainError, match="text_pair"):
        Preprocessor(tokenizer)({"sentence": tf.constant(["a"])})
    with pytest.raises(XDomainError, match="no room"):
        Preprocessor(tokenizer, sequence_length=2)((tf.constant(["a"]), tf.constant(["b"])))


def test_keras_save_and_load_with_safe_mode(vocab_file, tmp_path):
    inputs = keras.Input(shape=(), dtype="string")
    outputs = Preprocessor(WordPieceTokenizer(vocab_file, normalization="tf_text"), 16)(inputs)
    model = keras.Model(inputs, outputs)
    path = tmp_path / "preprocessor.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    texts = tf.constant(PROBES)
    expected, got = model(texts), restored(texts)
    for key in ("token_ids", "segment_ids", "padding_mask"):
        np.testing.assert_array_equal(got[key], expected[key])
    layer = [layer for layer in restored.layers if isinstance(layer, Preprocessor)][0]
    assert layer.tokenizer.normalization == "tf_text" and layer.sequence_length == 16


def test_exported_graph_has_no_ragged_or_trimmer_ops(vocab_file, tmp_path):
    preprocessor = Preprocessor(WordPieceTokenizer(vocab_file), 16, pad_to="longest")
    module = export(preprocessor, tmp_path / "pair", pair=True)
    in_function = op_types(module.serve.get_concrete_function())
    in_saved_model = saved_model_op_types(tmp_path / "pair")
    for types in (in_function, in_saved_model):
        assert "FastBertNormalize" in types and "FastWordpieceTokenizeWithOffsets" in types
        assert not [t for t in types if "Ragged" in t or "RoundRobin" in t]
    # Beyond the two tf-text kernels, only core ops that TFLite has builtins for.
    plumbing = {"PartitionedCall", "StatefulPartitionedCall", "Placeholder", "Identity", "Const"}
    tf_text_ops = {"FastBertNormalize", "FastWordpieceTokenizeWithOffsets"}
    assert set(in_saved_model) - plumbing - tf_text_ops <= TFLITE_BUILTIN_TF_OPS


def test_saved_model_reloads_in_a_fresh_process(vocab_file, tmp_path):
    preprocessor = Preprocessor(WordPieceTokenizer(vocab_file), 24)
    module = export(preprocessor, tmp_path / "model")
    texts = PROBES + CORPUS + [t.decode("utf-8", errors="replace") for t in ODD_TEXTS[:2]]
    (tmp_path / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    script = textwrap.dedent(
        f"""
        import json, sys
        import tensorflow as tf
        import tensorflow_text  # registers the tf-text ops
        assert "xdomain_tf" not in sys.modules
        texts = json.load(open({str(tmp_path / "texts.json")!r}, encoding="utf-8"))
        serve = tf.saved_model.load({str(tmp_path / "model")!r}).signatures["serving_default"]
        out = serve(text=tf.constant(texts))
        json.dump({{k: v.numpy().tolist() for k, v in out.items()}}, open({str(tmp_path / "out.json")!r}, "w"))
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    got = json.loads((tmp_path / "out.json").read_text())
    expected = module.serve(tf.constant(texts))
    for key in ("token_ids", "segment_ids", "padding_mask"):
        assert got[key] == expected[key].numpy().tolist()


@pytest.mark.parametrize(
    "normalization, pad_to, pair",
    [("exact", "fixed", False), ("tf_text", "longest", True)],
)
def test_tflite_gives_the_same_ids(vocab_file, tmp_path, normalization, pad_to, pair):
    from ai_edge_litert.interpreter import InterpreterWithCustomOps

    preprocessor = Preprocessor(
        WordPieceTokenizer(vocab_file, normalization=normalization), 20, pad_to=pad_to
    )
    module = export(preprocessor, tmp_path / "model", pair=pair)
    converter = tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "model"))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.allow_custom_ops = True
    interpreter = InterpreterWithCustomOps(
        model_content=converter.convert(),
        custom_op_registerers=tf_text.tflite_registrar.SELECT_TFTEXT_OPS,
    )
    runner = interpreter.get_signature_runner("serving_default")
    texts = np.array([t.encode() for t in PROBES + CORPUS] + ODD_TEXTS, dtype=object)
    inputs = {"text": texts}
    if pair:
        inputs["text_pair"] = texts[::-1].copy()
    got = runner(**inputs)
    expected = module.serve(**{k: tf.constant(v) for k, v in inputs.items()})
    for key in ("token_ids", "segment_ids", "padding_mask"):
        np.testing.assert_array_equal(got[key], expected[key].numpy())
    assert expected["padding_mask"].numpy().sum() > 200
