"""Tasks: a model together with its preprocessing, the objects users train, save and ship.

`MultiDomainTextClassifier` takes raw strings in `fit`/`predict`/`classify`, saves as one
`.keras` file and is what the SavedModel and TFLite exports are made from.
"""

__all__ = ["EncoderPreset", "MultiDomainTextClassifier", "load_classifier", "load_encoder_preset"]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.tasks.encoder_preset": ["EncoderPreset", "load_encoder_preset"],
        "xdomain_tf.tasks.multi_domain_text_classifier": ["MultiDomainTextClassifier", "load_classifier"],
    },
)
