import numpy as np
from safetensors.numpy import save_file

from xdomain_tf.training.pretraining.head_weights import load_head_weights, mlm_head_weights_for, save_head_weights


def test_presets_have_no_head_and_npz_round_trips(tmp_path):
    assert mlm_head_weights_for("bert_tiny") is None
    weights = {"transform_kernel": np.eye(3, dtype="float32"), "output_bias": np.arange(5, dtype="float32")}
    save_head_weights(tmp_path / "mlm_head.npz", weights)
    loaded = mlm_head_weights_for(tmp_path)
    assert sorted(loaded) == sorted(weights)
    np.testing.assert_array_equal(loaded["output_bias"], weights["output_bias"])
    assert load_head_weights(tmp_path / "mlm_head.npz")["transform_kernel"].shape == (3, 3)


def test_hugging_face_head_tensors_are_read_and_transposed(tmp_path):
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(4, 4)).astype("float32")
    tensors = {
        "bert.embeddings.word_embeddings.weight": rng.normal(size=(6, 4)).astype("float32"),
        "cls.predictions.transform.dense.weight": dense,
        "cls.predictions.transform.dense.bias": np.zeros(4, "float32"),
        "cls.predictions.transform.LayerNorm.weight": np.ones(4, "float32"),
        "cls.predictions.transform.LayerNorm.bias": np.zeros(4, "float32"),
        "cls.predictions.bias": np.arange(6, dtype="float32"),
    }
    save_file(tensors, str(tmp_path / "model.safetensors"))
    weights = mlm_head_weights_for(tmp_path)
    np.testing.assert_array_equal(weights["transform_kernel"], dense.T)
    np.testing.assert_array_equal(weights["output_bias"], np.arange(6))
    save_file({"embeddings.word_embeddings.weight": tensors["bert.embeddings.word_embeddings.weight"]},
              str(tmp_path / "model.safetensors"))
    assert mlm_head_weights_for(tmp_path) is None
