"""`evaluate_mlm`: held-out masked-LM loss and accuracy per domain (or language)."""
import keras

from xdomain_tf.errors import XDomainError
from xdomain_tf.training.pretraining.corpus import PretrainingCorpus
from xdomain_tf.training.pretraining.input_pipelines import lm_masker, masked_lm_dataset
from xdomain_tf.training.pretraining.trainer import PretrainingTrainer


def evaluate_mlm(
    model,
    files,
    preprocessor=None,
    mlm_head_weights=None,
    batch_size=32,
    seq_len=128,
    mask_rate=0.15,
    max_predictions=None,
    whole_word=False,
    mask_seed=0,
    head_seed=0,
    group_by="domain",
    languages=None,
    default_domain=None,
    on_error="raise",
):
    """Masked-LM loss (mean cross-entropy per predicted token) and accuracy on held-out
    data, per group and overall.

    The masks depend only on the data, the tokenizer, `batch_size`, `seq_len` and
    `mask_seed`, so two models with the same tokenizer (an encoder before and after
    domain-adaptive pretraining) scored with the same settings see exactly the same
    masked tokens. An encoder without a masked-LM head gets a new one
    tied to its token embedding, initialised from `head_seed` (its score is then that of
    an untrained head: near `log(vocabulary size)`).

    Args:
        model: a `MaskedLM`; a `TransformerEncoder` (with `preprocessor`); or a string /
            path: a run directory, a Hugging Face BERT folder or `all-minilm-l6-v2` (the
            head from the run's `mlm_head.npz` or the checkpoint's `cls.predictions.*`).
        files: record files (labels not needed).
        preprocessor: the `Preprocessor` (needed unless `model` is a string).
        mlm_head_weights: head weights for an encoder (Keras layout), optional.
        batch_size: evaluation batch size.
        seq_len: the preprocessor's sequence length when it is built here.
        mask_rate, max_predictions, whole_word: masking, as in pretraining
            (`max_predictions` defaults to `ceil(seq_len * mask_rate)`).
        mask_seed: seed of the masks.
        head_seed: seed of a new head's initialisation.
        group_by: `domain`, `lang` or `domain_lang`.
        languages: keep only these languages.
        default_domain: the domain of records without one.
        on_error: `raise` or `skip` bad records.

    Returns:
        `{"objective": "mlm", "groups": {group: {"loss", "accuracy", "perplexity", "tokens"}},
        "overall": {...}}` (`tokens`: the masked tokens predicted).

    Example:

    >>> evaluate_mlm("runs/dapt", ["valid.jsonl"])["overall"]  # doctest: +SKIP
    {'loss': 2.31, 'accuracy': 0.55, 'perplexity': 10.1}
    """
    import math

    masked_lm, preprocessor = _masked_lm(model, preprocessor, mlm_head_weights, seq_len, head_seed)
    corpus = PretrainingCorpus.from_files(
        files, default_domain=default_domain, on_error=on_error, group_by=group_by, languages=languages
    )
    if not corpus.texts:
        raise XDomainError(f"no texts to evaluate in {files}")
    length = getattr(preprocessor, "sequence_length", seq_len)
    masker = lm_masker(preprocessor.tokenizer, mask_rate, max_predictions or max(1, math.ceil(length * mask_rate)), whole_word)
    groups = corpus.text_groups
    dataset = masked_lm_dataset(
        corpus, preprocessor, masker, batch_size, groups, training=False, mask_seed=mask_seed,
        sentence_objective=None,
    )
    trainer = PretrainingTrainer(masked_lm=masked_lm, groups=groups)
    trainer.compile()
    results = trainer.evaluate(dataset.map(lambda batch: {"mlm": batch}), verbose=0, return_dict=True)

    def entry(prefix):
        loss = float(results[f"{prefix}loss"])
        tokens = int(round(float(trainer.trackers[f"{prefix}loss"].count)))
        return {
            "loss": loss, "accuracy": float(results[f"{prefix}accuracy"]), "perplexity": math.exp(min(loss, 50.0)),
            "tokens": tokens,
        }

    return {
        "objective": "mlm",
        "groups": {group: entry(f"{group}_mlm_") for group in groups},
        "overall": entry("mlm_"),
    }


def _masked_lm(model, preprocessor, mlm_head_weights, seq_len, head_seed):
    from xdomain_tf.models.masked_lm import MaskedLM
    from xdomain_tf.models.transformer_encoder import TransformerEncoder

    if isinstance(model, MaskedLM):
        if preprocessor is None:
            raise XDomainError("evaluate_mlm: pass the preprocessor that goes with the model")
        return model, preprocessor
    if isinstance(model, TransformerEncoder):
        if preprocessor is None:
            raise XDomainError("evaluate_mlm: pass the preprocessor that goes with the encoder")
        keras.utils.set_random_seed(head_seed)
        return MaskedLM(model, mlm_head_weights=mlm_head_weights), preprocessor
    from xdomain_tf.checkpoints.init_resolution import resolve_init
    from xdomain_tf.text.preprocessor import Preprocessor
    from xdomain_tf.training.pretraining.head_weights import mlm_head_weights_for

    initialized = resolve_init(str(model))
    if initialized.encoder is None:
        raise XDomainError(f"evaluate_mlm: {model!r} is a preset without weights; give a trained run or checkpoint")
    if initialized.tokenizer is None:
        raise XDomainError(f"evaluate_mlm: {model!r} has no vocabulary (vocab.txt) to tokenize with")
    weights = mlm_head_weights if mlm_head_weights is not None else initialized.mlm_head_weights
    if weights is None:
        weights = mlm_head_weights_for(model)
    if preprocessor is None:
        preprocessor = Preprocessor(initialized.tokenizer, sequence_length=seq_len)
    keras.utils.set_random_seed(head_seed)
    return MaskedLM(initialized.encoder, mlm_head_weights=weights), preprocessor

