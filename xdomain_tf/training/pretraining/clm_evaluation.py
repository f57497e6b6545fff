"""`evaluate_clm`: held-out next-token loss and perplexity per domain (or language), each text
conditioned on its own domain, on a given one, or on none."""
import math

import numpy as np
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.training.pretraining.corpus import PretrainingCorpus
from xdomain_tf.training.pretraining.losses import token_cross_entropy

CONDITIONINGS = ("own", "none")
# Perplexities past exp(50) print as that: the loss stays exact.
_MAX_LOG_PERPLEXITY = 50.0


def evaluate_clm(
    model,
    files,
    preprocessor=None,
    domain=None,
    unconditioned=False,
    batch_size=32,
    seq_len=None,
    group_by="domain",
    languages=None,
    default_domain=None,
    on_error="raise",
):
    """Causal-LM loss (mean cross-entropy per predicted token, natural log), perplexity
    (`exp(loss)`) and next-token accuracy on held-out text, per group and overall.

    Each text is packed as in pretraining (`[CLS] text [SEP]`, cut to `seq_len` tokens)
    and every real token after the first is predicted, the closing `[SEP]` included. The
    first token is the text's conditioning:

    - by default its own domain's token (`[domain:NAME]`), or `[CLS]` when the model has
      no token for that domain (a domain held out of pretraining);
    - `domain`: that domain's token for every text (score text against a wrong domain);
    - `unconditioned`: `[CLS]` for every text.

    Args:
        model: a `MultiDomainCausalLM`; a `CausalLM` (with `preprocessor`); or a path: a
            causal-LM pretraining run directory or a `.keras` file holding one.
        files: record files (labels not needed).
        preprocessor: the `Preprocessor` of a `CausalLM` given as a model.
        domain: condition every text on this domain (it must be one of the model's).
        unconditioned: condition no text.
        batch_size: texts per model call.
        seq_len: the longest packed text; None: the model's preprocessor's.
        group_by: report per `domain`, `lang` or `domain_lang`.
        languages: keep only these languages.
        default_domain: the domain of records without one.
        on_error: `raise` or `skip` bad records.

    Returns:
        `{"objective": "clm", "conditioning": "own" | "none" | "domain:NAME", "groups":
        {group: {"loss", "perplexity", "accuracy", "tokens", "texts", "conditioned"}},
        "overall": {...}}`: `tokens` is the number of predicted tokens, `conditioned` the
        number of texts that started with a domain token.

    Example:

    >>> report = evaluate_clm("runs/clm", ["heldout.jsonl"])  # doctest: +SKIP
    >>> report["groups"]["news"]["perplexity"]  # doctest: +SKIP
    41.7
    """
    from xdomain_tf.models.causal_lm import CausalLM
    from xdomain_tf.tasks.multi_domain_causal_lm import MultiDomainCausalLM, load_causal_lm

    if domain is not None and unconditioned:
        raise XDomainError("give domain= or unconditioned=True, not both")
    if isinstance(model, CausalLM) and not isinstance(model, MultiDomainCausalLM):
        if preprocessor is None:
            raise XDomainError("evaluate_clm: pass the preprocessor that goes with the causal LM")
        model = MultiDomainCausalLM.from_causal_lm(model, preprocessor)
    lm = load_causal_lm(model)
    preprocessor = preprocessor or lm.preprocessor
    if preprocessor is None:
        raise XDomainError("evaluate_clm: the causal LM has no preprocessor; pass preprocessor=")
    if seq_len is not None and int(seq_len) != preprocessor.sequence_length:
        limit = lm.encoder.encoder_config.max_position_embeddings
        if int(seq_len) > limit:
            raise XDomainError(f"seq_len {seq_len} is longer than the model's {limit} positions")
        preprocessor = preprocessor.with_options(sequence_length=int(seq_len))
    preprocessor = preprocessor.with_options(pad_to="longest")
    corpus = PretrainingCorpus.from_files(
        files, default_domain=default_domain, on_error=on_error, group_by=group_by, languages=languages
    )
    if not corpus.texts:
        raise XDomainError(f"no texts to evaluate in {files}")

    conditioning = "none" if unconditioned else "own" if domain is None else f"domain:{domain}"
    texts, group_ids, start_ids = [], [], []
    own = dict(zip(lm.domain_names, lm.start_ids(lm.domain_names, len(lm.domain_names))))
    cls_id = preprocessor.tokenizer.cls_token_id
    fixed = None if domain is None else lm.start_ids(domain, 1)[0]
    for index, (group, values) in enumerate(corpus.texts.items()):
        texts += values
        group_ids += [index] * len(values)
        if unconditioned:
            start_ids += [cls_id] * len(values)
        elif fixed is not None:
            start_ids += [fixed] * len(values)
        else:
            start_ids += [own.get(name, cls_id) for name in corpus.text_domains[group]]
    sums = _token_sums(lm, preprocessor, texts, start_ids, batch_size)
    group_ids, conditioned = np.asarray(group_ids), np.asarray(start_ids) != cls_id

    def entry(member):
        loss_sum, tokens, correct = (float(values[member].sum()) for values in sums)
        loss = loss_sum / tokens if tokens else float("nan")
        return {
            "loss": loss,
            "perplexity": math.exp(min(loss, _MAX_LOG_PERPLEXITY)) if tokens else float("nan"),
            "accuracy": correct / tokens if tokens else float("nan"),
            "tokens": int(round(tokens)),
            "texts": int(member.sum()),
            "conditioned": int(conditioned[member].sum()),
        }

    return {
        "objective": "clm",
        "conditioning": conditioning,
        "groups": {group: entry(group_ids == index) for index, group in enumerate(corpus.texts)},
        "overall": entry(np.ones(len(texts), bool)),
    }


def _token_sums(lm, preprocessor, texts, start_ids, batch_size):
    """Per text: summed next-token cross-entropy, predicted tokens, correct predictions
    (float64 numpy arrays, in input order)."""
    from xdomain_tf.text.causal_lm_features import causal_lm_inputs
    from xdomain_tf.text.domain_tokens import condition_on_domains

    @tf.function(reduce_retracing=True)
    def score(batch_texts, batch_starts):
        features = preprocessor(batch_texts)
        features["token_ids"] = condition_on_domains(features["token_ids"], batch_starts)
        inputs, labels, weights = causal_lm_inputs(features)
        logits = lm(inputs, training=False)
        return token_cross_entropy(labels, logits, weights)

    # Texts of similar length share a batch: less padding to run.
    order = np.argsort([len(text) for text in texts], kind="stable")
    sums = np.zeros((3, len(texts)), np.float64)
    for begin in range(0, len(order), batch_size):
        rows = order[begin : begin + batch_size]
        outputs = score(
            tf.constant([texts[row] for row in rows], tf.string),
            tf.constant([start_ids[row] for row in rows], tf.int32),
        )
        for values, output in zip(sums, outputs):
            values[rows] = np.asarray(output, np.float64)
    return sums
