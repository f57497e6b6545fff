"""`MultiDomainCausalLM`: a causal LM with its tokenizer and domain tokens; generates raw text,
steered by a domain or not."""
import os

import keras
import numpy as np
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.models.causal_lm import CausalLM
from xdomain_tf.utils.storage import StoragePath, storage_path

DEFAULT_MAX_NEW_TOKENS = 32
_SHOWN_DOMAIN_CHARACTERS = 80


@keras.saving.register_keras_serializable(package="xdomain_tf")
class MultiDomainCausalLM(CausalLM):
    """A `CausalLM` with the `Preprocessor` that feeds it and the domains it was conditioned on.

    Domain conditioning: a training text of domain `d` is packed as `[domain:d] text [SEP]`
    (the reserved token of `xdomain_tf.text.domain_tokens` in place of `[CLS]`), a fraction
    of them as `[CLS] text [SEP]` (unconditioned), so `generate` and scoring work with a
    domain or without one. `domains` are the names whose tokens are in the vocabulary; they
    and the preprocessor (vocabulary included, as an asset) are saved in the `.keras` file.

    Args:
        encoder: a `TransformerEncoder` (a bidirectional one is converted, see `CausalLM`).
        preprocessor: the `Preprocessor` of the model's tokenizer.
        domains: the domain names the model knows (each has a `[domain:NAME]` token in the
            vocabulary); None: every domain token found in the vocabulary.
        lm_head_weights: optional head weights (see `CausalLM`).
        dtype: dtype policy of the head.
        **kwargs: `name`, `trainable`.

    Example:

    >>> from xdomain_tf.models import TransformerEncoder
    >>> from xdomain_tf.text import Preprocessor, WordPieceTokenizer, reserve_domain_tokens
    >>> vocabulary = reserve_domain_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "goal"],
    ...                                    ["news", "debian"])
    >>> encoder = TransformerEncoder({"vocab_size": len(vocabulary), "hidden_size": 16, "num_hidden_layers": 1,
    ...                               "num_attention_heads": 2}, causal=True)
    >>> lm = MultiDomainCausalLM(encoder, Preprocessor(WordPieceTokenizer(vocabulary), 16))
    >>> lm.domain_names
    ['news', 'debian']
    >>> text = lm.generate("the goal", domain="news", strategy="top_k", max_new_tokens=4, seed=1)
    >>> text.startswith("the goal"), text == lm.generate("the goal", domain="news", strategy="top_k",
    ...                                                 max_new_tokens=4, seed=1)
    (True, True)
    """

    def __init__(self, encoder, preprocessor=None, domains=None, lm_head_weights=None, dtype=None, **kwargs):
        from xdomain_tf.text import Preprocessor
        from xdomain_tf.text.domain_tokens import domain_token, vocabulary_domains

        if isinstance(preprocessor, dict):
            preprocessor = keras.saving.deserialize_keras_object(preprocessor)
        if preprocessor is not None and not isinstance(preprocessor, Preprocessor):
            raise XDomainError(f"preprocessor must be a Preprocessor, got {type(preprocessor).__name__}")
        if domains is None:
            has_vocabulary = preprocessor is not None and preprocessor.tokenizer.has_vocabulary
            domains = vocabulary_domains(preprocessor.tokenizer.vocabulary) if has_vocabulary else []
        domains = [str(domain) for domain in domains]
        for domain in domains:
            domain_token(domain)  # a name that cannot be a token fails here
        if len(set(domains)) != len(domains):
            raise XDomainError(f"domains repeat a name: {domains}")

        # === Layers ===
        self.preprocessor = preprocessor

        # === Functional Model ===
        kwargs.setdefault("name", "multi_domain_causal_lm")
        super().__init__(encoder, lm_head_weights=lm_head_weights, dtype=dtype, **kwargs)

        # === Config ===
        self.domains = domains
        self._generator = None

    @property
    def domain_names(self):
        """The domains generation and scoring can be conditioned on, in token-id order of training."""
        return list(self.domains)

    def start_ids(self, domains, count):
        """The first token of each of `count` sequences: its domain's token, or `[CLS]`.

        Args:
            domains: None (no conditioning), one domain name for all, or one name (or None)
                per sequence.
            count: the number of sequences.

        Returns:
            A list of `count` ints.

        Raises:
            XDomainError: an unknown domain (the known ones are listed).
        """
        from xdomain_tf.text.domain_tokens import domain_token_ids

        tokenizer = self._tokenizer()
        if domains is None or isinstance(domains, str):
            domains = [domains] * count
        domains = list(domains)
        if len(domains) != count:
            raise XDomainError(f"{count} texts but {len(domains)} domains")
        ids = dict(zip(self.domains, domain_token_ids(tokenizer, self.domains)))
        unknown = [domain for domain in domains if domain is not None and domain not in ids]
        if unknown:
            known = ", ".join(self.domains) if self.domains else "none (the model was trained without domain tokens)"
            name = str(unknown[0])[:_SHOWN_DOMAIN_CHARACTERS]
            raise XDomainError(f"unknown domain {name!r}; known domains: {known}")
        return [tokenizer.cls_token_id if domain is None else ids[domain] for domain in domains]

    def features(self, texts, domains=None):
        """Packed inputs of texts, each conditioned on its domain (see `start_ids`).

        Args:
            texts: a list of strings.
            domains: see `start_ids`.

        Returns:
            A dict of int32 `[batch, seq]` tensors: `token_ids`, `segment_ids`, `padding_mask`.
        """
        from xdomain_tf.text.domain_tokens import condition_on_domains

        texts = _checked_texts(texts, "text")
        features = self._preprocessor()(tf.constant(texts, tf.string))
        start = tf.constant(self.start_ids(domains, len(texts)), tf.int32)
        return {**features, "token_ids": condition_on_domains(features["token_ids"], start)}

    def generate(
        self,
        prompts,
        domain=None,
        strategy="greedy",
        max_new_tokens=DEFAULT_MAX_NEW_TOKENS,
        seed=None,
        k=10,
        p=0.9,
        temperature=1.0,
    ):
        """Continues prompts, conditioned on a domain or not, until `[SEP]` or `max_new_tokens`.

        Decoding reuses a key/value cache (`CausalLMGenerator`). The same prompts, domain,
        strategy and seed give the same texts.

        Args:
            prompts: a string, or a list of strings (none empty).
            domain: None (unconditioned), a domain name for every prompt, or one (or None)
                per prompt.
            strategy: `"greedy"`, `"top_k"` (sample among the `k` most likely tokens) or
                `"top_p"` (nucleus sampling with mass `p`).
            max_new_tokens: the most tokens generated after each prompt (`[SEP]`
                included); fewer when the model's positions run out.
            seed: an integer makes sampling reproducible; None: random.
            k: the `k` of top-k.
            p: the `p` of top-p.
            temperature: divides the logits before sampling.

        Returns:
            The prompt and its continuation as the tokenizer normalizes text (lower-cased,
            punctuation spaced), a string for a string prompt, else a list.

        Example:

        >>> lm.generate(["the match", "install the"], domain=["news", "debian"], seed=0)  # doctest: +SKIP
        ['the match was won by ...', 'install the package to ...']
        """
        details = self.generate_details(prompts, domain, strategy, max_new_tokens, seed, k, p, temperature)
        texts = [row["text"] for row in details]
        return texts[0] if isinstance(prompts, str) else texts

    def generate_details(
        self,
        prompts,
        domain=None,
        strategy="greedy",
        max_new_tokens=DEFAULT_MAX_NEW_TOKENS,
        seed=None,
        k=10,
        p=0.9,
        temperature=1.0,
    ):
        """`generate`, with what happened to each prompt.

        Args:
            prompts, domain, strategy, max_new_tokens, seed, k, p, temperature: see
                `generate`.

        Returns:
            One dict per prompt, in order: `text` (prompt and continuation),
            `new_tokens` (tokens generated, `[SEP]` included), `stop` (`"sep"`,
            `"max_new_tokens"` or `"max_length"`: the model's positions ran out).

        Example:

        >>> lm.generate_details("the", domain="news", max_new_tokens=3)  # doctest: +SKIP
        [{'text': 'the goal goal', 'new_tokens': 3, 'stop': 'max_new_tokens'}]
        """
        prompts = _checked_texts([prompts] if isinstance(prompts, str) else prompts, "prompt")
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, (int, np.integer)) or max_new_tokens < 1:
            raise XDomainError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}")
        generator = self.generator
        start_ids = self.start_ids(domain, len(prompts))
        limit = generator.max_positions
        token_ids, lengths = generator._tokenize(prompts, limit, start_ids)
        max_length = min(limit, int(lengths.max()) + int(max_new_tokens))
        ids, _ = generator.generate_ids(
            token_ids, lengths, max_length, strategy=strategy, k=k, p=p, temperature=temperature, seed=seed
        )
        details = []
        for row, length in zip(ids, lengths):
            new = row[length : length + int(max_new_tokens)].tolist()
            if generator.end_id in new:
                new, stop = new[: new.index(generator.end_id) + 1], "sep"
            elif len(new) == max_new_tokens:
                stop = "max_new_tokens"
            else:
                stop = "max_length"
            new = [token for token in new if token != generator.pad_id]
            kept = np.concatenate([row[:length], np.asarray(new, np.int32)])[None, :]
            details.append({"text": generator._detokenize(kept)[0], "new_tokens": len(new), "stop": stop})
        return details

    @classmethod
    def from_causal_lm(cls, causal_lm, preprocessor, domains=()):
        """A `MultiDomainCausalLM` sharing `causal_lm`'s encoder, with its head weights.

        Args:
            causal_lm: a `CausalLM` (e.g. the `model.keras` of an older run).
            preprocessor: its `Preprocessor`.
            domains: the domains it was conditioned on (none for a plain `CausalLM`).

        Example:

        >>> from xdomain_tf.models import CausalLM, TransformerEncoder
        >>> from xdomain_tf.text import Preprocessor, WordPieceTokenizer
        >>> plain = CausalLM(TransformerEncoder({"vocab_size": 6, "hidden_size": 8, "num_hidden_layers": 1,
        ...                                      "num_attention_heads": 2}))
        >>> tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hi"])
        >>> MultiDomainCausalLM.from_causal_lm(plain, Preprocessor(tokenizer, 8)).encoder is plain.encoder
        True
        """
        if isinstance(causal_lm, cls) and causal_lm.preprocessor is preprocessor:
            return causal_lm
        wrapped = cls(causal_lm.encoder, preprocessor=preprocessor, domains=list(domains))
        for target, source in zip(wrapped.lm_head.weights, causal_lm.lm_head.weights):
            target.assign(source)
        return wrapped

    @property
    def generator(self):
        """The `CausalLMGenerator` over this model and its tokenizer (built once)."""
        from xdomain_tf.models.causal_lm_generator import CausalLMGenerator

        if self._generator is None:
            self._generator = CausalLMGenerator(self, self._tokenizer())
        return self._generator

    def _preprocessor(self):
        if self.preprocessor is None:
            raise XDomainError("this causal LM has no preprocessor: attach the Preprocessor it was trained with")
        return self.preprocessor

    def _tokenizer(self):
        return self._preprocessor().tokenizer

    def get_config(self):
        return {
            **super().get_config(),
            "preprocessor": None
            if self.preprocessor is None
            else keras.saving.serialize_keras_object(self.preprocessor),
            "domains": list(self.domains),
        }


def load_causal_lm(model):
    """The causal LM behind `model`, ready to generate and score.

    Args:
        model: a `MultiDomainCausalLM`, a causal-LM pretraining run directory (written by
            `xdomain-tf pretrain --objective clm`) or a `.keras` file holding one.

    Returns:
        A `MultiDomainCausalLM`. An older run whose `model.keras` is a plain `CausalLM` is
        wrapped with the run's preprocessor (no domains).

    Raises:
        XDomainError: `model` is a classifier, a masked LM or no model at all.

    Example:

    >>> load_causal_lm("runs/missing")
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: runs/missing: no such causal LM (a pretraining run of --objective clm or a .keras file)
    """
    from xdomain_tf.runs import RunDirectory
    from xdomain_tf.runs.run_files import load_keras_file

    if isinstance(model, MultiDomainCausalLM):
        return model
    if isinstance(model, keras.Model):
        raise XDomainError(
            f"a {type(model).__name__} is not a causal LM: generate needs a model pretrained with --objective clm"
        )
    if not isinstance(model, (str, os.PathLike, StoragePath)) or not storage_path(model).exists():
        raise XDomainError(f"{model}: no such causal LM (a pretraining run of --objective clm or a .keras file)")
    path = str(model)
    run = None
    if storage_path(path).is_dir():
        run = RunDirectory(path)
        info = run.run_info()
        kind = info.get("kind", "classifier")
        objectives = info.get("objectives") or []
        if kind != "pretrain" or "clm" not in objectives:
            what = f"a {kind} run" if kind != "pretrain" else f"a pretraining run of {'+'.join(objectives) or 'mlm'}"
            raise XDomainError(f"{path}: {what}, not a causal LM (pretrain one with --objective clm)")
        loaded = run.load_model()
    elif path.endswith(".keras"):
        loaded = load_keras_file(path, advice="save or download the model again")
    else:
        raise XDomainError(f"{path}: not a run directory or a .keras file")
    if isinstance(loaded, MultiDomainCausalLM):
        return loaded
    if isinstance(loaded, CausalLM) and run is not None:
        return MultiDomainCausalLM.from_causal_lm(loaded, run.load_preprocessor())
    raise XDomainError(f"{path}: holds a {type(loaded).__name__}, not a causal LM (pretrain one with --objective clm)")


def _checked_texts(texts, what):
    if isinstance(texts, str):
        texts = [texts]
    try:
        texts = list(texts)
    except TypeError:
        raise XDomainError(f"{what}s must be a string or a list of strings, got {type(texts).__name__}") from None
    if not texts:
        raise XDomainError(f"no {what} given")
    for index, text in enumerate(texts, 1):
        if not isinstance(text, str):
            raise XDomainError(f"{what} {index} is a {type(text).__name__}, not a string")
        if not text.strip():
            raise XDomainError(f"{what} {index} is empty")
    return texts
