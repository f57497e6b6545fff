"""In-graph text pipeline: WordPiece tokenizer, vocabulary trainer, BERT input packing, LM masking.

Every piece is TensorFlow ops, so the same code runs in `tf.data`, inside exported
SavedModels (raw strings in) and in TFLite (tensorflow-text custom ops).
"""

__all__ = [
    "causal_lm_inputs", "condition_on_domains", "domain_token", "domain_token_ids", "MaskedLMMasker",
    "normalize_text", "pack_segments", "Preprocessor", "read_vocabulary", "reserve_domain_tokens", "split_words",
    "token_domain", "train_wordpiece_vocabulary", "trimmed_lengths", "vocabulary_domains", "WordPieceTokenizer",
    "write_vocabulary",
]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.text.causal_lm_features": ["causal_lm_inputs"],
        "xdomain_tf.text.domain_tokens": [
            "condition_on_domains", "domain_token", "domain_token_ids", "reserve_domain_tokens", "token_domain",
            "vocabulary_domains",
        ],
        "xdomain_tf.text.dense_packing": ["pack_segments", "trimmed_lengths"],
        "xdomain_tf.text.masked_lm_masker": ["MaskedLMMasker"],
        "xdomain_tf.text.normalization": ["normalize_text", "split_words"],
        "xdomain_tf.text.preprocessor": ["Preprocessor"],
        "xdomain_tf.text.wordpiece_trainer": ["train_wordpiece_vocabulary"],
        "xdomain_tf.text.vocabulary_file": ["read_vocabulary", "write_vocabulary"],
        "xdomain_tf.text.word_piece_tokenizer": ["WordPieceTokenizer"],
    },
)
