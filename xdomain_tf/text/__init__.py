"""In-graph text pipeline: WordPiece tokenizer, vocabulary trainer, BERT input packing, LM masking.

Every piece is TensorFlow ops, so the same code runs in `tf.data`, inside exported
SavedModels (raw strings in) and in TFLite (tensorflow-text custom ops).
"""
from xdomain_tf.text.causal_lm_inputs import causal_lm_inputs
from xdomain_tf.text.dense_packing import pack_segments, trimmed_lengths
from xdomain_tf.text.masked_lm_masker import MaskedLMMasker
from xdomain_tf.text.normalization import normalize_text, split_words
from xdomain_tf.text.preprocessor import Preprocessor
from xdomain_tf.text.train_wordpiece_vocabulary import train_wordpiece_vocabulary
from xdomain_tf.text.vocabulary_file import read_vocabulary, write_vocabulary
from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer

__all__ = [
    "MaskedLMMasker",
    "Preprocessor",
    "WordPieceTokenizer",
    "causal_lm_inputs",
    "normalize_text",
    "pack_segments",
    "read_vocabulary",
    "split_words",
    "train_wordpiece_vocabulary",
    "trimmed_lengths",
    "write_vocabulary",
]
