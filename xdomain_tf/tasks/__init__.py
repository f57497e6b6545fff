"""Tasks: a model together with its preprocessing, the objects users train, save and ship.

`MultiDomainTextClassifier` takes raw strings in `fit`/`predict`/`classify`, saves as one
`.keras` file and is what the SavedModel and TFLite exports are made from.
`IntegratedGradients` explains its predictions word by word (`clf.explain`).
`MultiDomainCausalLM` generates raw text, steered by a domain token or not.
"""

__all__ = [
    "EncoderPreset", "IntegratedGradients", "MultiDomainCausalLM", "MultiDomainTextClassifier", "load_causal_lm",
    "load_classifier", "load_encoder_preset",
]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.tasks.encoder_preset": ["EncoderPreset", "load_encoder_preset"],
        "xdomain_tf.tasks.integrated_gradients": ["IntegratedGradients"],
        "xdomain_tf.tasks.multi_domain_causal_lm": ["MultiDomainCausalLM", "load_causal_lm"],
        "xdomain_tf.tasks.multi_domain_text_classifier": ["MultiDomainTextClassifier", "load_classifier"],
    },
)
