"""The language-model head weights that go with an `--init` value, when it has some."""
import io

import numpy as np

from xdomain_tf.utils.storage import local_copy, storage_path

HEAD_FILE = "mlm_head.npz"


def mlm_head_weights_for(init):
    """Masked-LM head weights (Keras layout, see `xdomain_tf.checkpoints.mlm_head_weights`)
    of `init`, or None when it has none (then a fresh head, tied to the embeddings, is
    trained).

    - A pretraining run directory: its `mlm_head.npz` (written by `train_pretraining`).
    - A Hugging Face BERT folder or a named checkpoint: its `cls.predictions.*` tensors
      (only those are read from model.safetensors).
    - A preset: None.

    Args:
        init: an `--init` value.

    Example:

    >>> mlm_head_weights_for("bert_tiny") is None
    True
    """
    from xdomain_tf.checkpoints.named_checkpoints import NAMED_CHECKPOINTS, fetch_named_checkpoint
    from xdomain_tf.models.encoder_config import EncoderConfig

    init = str(init)
    if init in EncoderConfig.architecture_names():
        return None
    path = storage_path(fetch_named_checkpoint(init) if init in NAMED_CHECKPOINTS else init).expanduser()
    if (path / HEAD_FILE).is_file():
        return load_head_weights(path / HEAD_FILE)
    if (path / "model.safetensors").is_file():
        return _hf_head_weights(path / "model.safetensors")
    return None


def save_head_weights(path, weights):
    """Writes a head-weight dict as an `.npz` file (atomically).

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mlm_head.npz"
    >>> save_head_weights(path, {"output_bias": np.zeros(3, "float32")})
    >>> path.exists()
    True
    """
    from xdomain_tf.utils.atomic import atomic_path

    buffer = io.BytesIO()
    np.savez(buffer, **{key: np.asarray(value) for key, value in weights.items()})
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def load_head_weights(path):
    """Reads a head-weight dict written by `save_head_weights`.

    Example:

    >>> import tempfile
    >>> path = tempfile.mkdtemp() + "/mlm_head.npz"
    >>> save_head_weights(path, {"output_bias": np.arange(3, dtype="float32")})
    >>> load_head_weights(path)["output_bias"].tolist()
    [0.0, 1.0, 2.0]
    """
    with np.load(io.BytesIO(storage_path(path).read_bytes())) as values:
        return {key: values[key] for key in values.files}


def _hf_head_weights(weights_path):
    from safetensors import safe_open

    from xdomain_tf.checkpoints.mlm_head_weights import mlm_head_weights_from_hf
    from xdomain_tf.errors import XDomainError

    tensors = {}
    try:
        with local_copy(weights_path) as local, safe_open(str(local), framework="numpy") as handle:
            for name in handle.keys():
                short = name[len("bert."):] if name.startswith("bert.") else name
                if short.startswith("cls.predictions."):
                    tensors[short.replace(".gamma", ".weight").replace(".beta", ".bias")] = handle.get_tensor(name)
    except Exception as error:  # safetensors raises its own error types
        raise XDomainError(f"{weights_path}: cannot read safetensors file ({error})") from error
    if not tensors:
        return None
    return mlm_head_weights_from_hf(tensors)
