"""xdomain_tf: cross-domain and cross-lingual BERT-style encoders on Keras 3 / TensorFlow.

Heavy modules (TensorFlow, Keras) load on first use, so `import xdomain_tf` and the CLI
start fast: every subpackage and every name below is an attribute that loads when first
touched (`xdomain_tf.training.train_classifier(...)`, `xdomain_tf.runs.RunDirectory`).

Packages, lowest first. A package imports only packages on lower lines, never one on its
own line or above (function-local imports included; `tests/test_layering.py` checks it):

1. `errors`, `version`: the exception types users see; `__version__`.
2. `utils`: atomic file writes, the cache folder, graph op lists, lazy package exports.
3. `layers`, `optimizers`, `text`, `data`: Keras layers; the AdamW variant and learning-rate
   schedule; the in-graph WordPiece tokenizer, preprocessor and LM maskers; records,
   readers, label spaces and tf.data pipelines.
4. `datasets`, `evaluation`: real corpora fetched into the cache and split; metrics,
   reports, plots and the TF-IDF baseline.
5. `models`: the encoder, its config and the Keras models built on it (classifier, LMs,
   contrastive aligner).
6. `runs`: the run directory a training run writes and everything downstream reads, and
   the registration of the Keras classes its `.keras` files hold.
7. `checkpoints`: Hugging Face BERT folders, keras-hub backbones, MiniLM and `--init`
   resolution.
8. `tasks`: task models with their preprocessing attached (`MultiDomainTextClassifier`).
9. `training`: the training runs behind `train`, `pretrain` and `transfer`, their options,
   callbacks, distribution and pretraining objectives.
10. `export`: verified SavedModels for TF Serving, TFLite files, warm-up requests and TF
    Serving request bodies.
11. `serving`: predictors over a run directory, a SavedModel or a TFLite file.
12. `quickstart` (with `quickstart_data`): the end-to-end demo on real data.
13. `cli`: the `xdomain-tf` command line.

Example:

>>> import xdomain_tf
>>> xdomain_tf.__version__
'0.1.0'
>>> xdomain_tf.runs.RunDirectory("runs/demo").model_path.name
'model.keras'
"""

# The subpackages, lowest layer first.
_SUBPACKAGES = (
    "errors", "utils", "layers", "optimizers", "text", "data", "datasets", "evaluation", "models",
    "runs", "checkpoints", "tasks", "training", "export", "serving", "quickstart", "cli",
)

__all__ = [
    "register_serializables", "build_encoder", "build_multi_domain_classifier", "EncoderConfig",
    "MultiDomainCausalLM", "MultiDomainTextClassifier", "TransformerEncoder", "__version__", *_SUBPACKAGES,
    "prune", "distill",
]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402
from xdomain_tf.version import __version__  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.models.encoder_config": ["EncoderConfig"],
        "xdomain_tf.models.transformer_encoder": ["TransformerEncoder", "build_encoder"],
        "xdomain_tf.models.multi_domain_classifier": ["build_multi_domain_classifier"],
        "xdomain_tf.tasks.multi_domain_causal_lm": ["MultiDomainCausalLM"],
        "xdomain_tf.tasks.multi_domain_text_classifier": ["MultiDomainTextClassifier"],
        "xdomain_tf.training.classifier_pruning": ["prune"],
        "xdomain_tf.training.distillation": ["distill"],
        **{f"xdomain_tf.{package}": [package] for package in _SUBPACKAGES},
    },
)



def register_serializables():
    """Registers every Keras class of xdomain_tf (layers, models, tokenizer, optimizers,
    `MultiDomainTextClassifier`, `MultiDomainCausalLM`), so `keras.saving.load_model` reads our `.keras` files.

    `import xdomain_tf` does this by itself when Keras is already imported (`import keras,
    xdomain_tf`); otherwise call it, or load with `MultiDomainTextClassifier.from_preset(path)`.

    Example:

    >>> import keras, xdomain_tf
    >>> xdomain_tf.register_serializables()
    >>> keras.saving.get_registered_object("xdomain_tf>MultiDomainTextClassifier").__name__
    'MultiDomainTextClassifier'
    """
    import importlib

    importlib.import_module("xdomain_tf.runs.serializables").register_serializables()
    importlib.import_module("xdomain_tf.tasks.multi_domain_text_classifier")
    importlib.import_module("xdomain_tf.tasks.multi_domain_causal_lm")


if "keras" in __import__("sys").modules:
    register_serializables()
