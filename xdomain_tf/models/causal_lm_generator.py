"""Text generation with a `CausalLM`: one token a step over a key/value cache."""
import numpy as np
import tensorflow as tf
from keras import ops

from xdomain_tf.errors import XDomainError
from xdomain_tf.text.domain_tokens import token_domain

STRATEGIES = ("greedy", "top_k", "top_p")


class CausalLMGenerator:
    """Generates text with a `CausalLM`, decoding one token at a time.

    Each step runs only the newest token through the blocks: the keys and values of the
    earlier positions stay in a per-block cache `[batch, 2, max_length, heads, head_size]`
    (`MultiHeadAttention`'s cache call path), so a step costs O(length) instead of
    recomputing the whole prefix (`use_cache=False` does that, as a reference).

    Prompts are tokenized with the tokenizer the model was trained with and start with
    `[CLS]` (as the `Preprocessor` packs training texts), or with a domain token
    (`start_ids`, see `xdomain_tf.text.domain_tokens`); generation of a row stops at
    `[SEP]`, the end-of-text token of that packing. `[PAD]`, `[CLS]`, `[MASK]`, `[UNK]`
    and the domain tokens are never sampled.

    Args:
        causal_lm: a `CausalLM`.
        tokenizer: its `WordPieceTokenizer`, or a `Preprocessor` (its `.tokenizer` is used).

    Example:

    >>> from xdomain_tf.models import CausalLM, TransformerEncoder
    >>> from xdomain_tf.text import WordPieceTokenizer
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"]
    >>> lm = CausalLM(TransformerEncoder({"vocab_size": 8, "hidden_size": 32, "num_hidden_layers": 2,
    ...                                  "num_attention_heads": 2}))
    >>> generator = CausalLMGenerator(lm, WordPieceTokenizer(vocab))
    >>> texts = generator.generate(["a b"], max_length=6, strategy="top_k", k=3, seed=1)
    >>> len(texts), texts == generator.generate(["a b"], max_length=6, strategy="top_k", k=3, seed=1)
    (1, True)
    """

    def __init__(self, causal_lm, tokenizer):
        self.causal_lm = causal_lm
        self.tokenizer = getattr(tokenizer, "tokenizer", tokenizer)
        self.encoder = causal_lm.encoder
        config = self.encoder.encoder_config
        if config.is_pruned:
            raise XDomainError(
                f"{self.encoder.name}: the key/value cache needs one head count for every layer; "
                "this encoder is structurally pruned"
            )
        self.max_positions = config.max_position_embeddings
        self.num_heads = config.num_attention_heads
        self.head_size = config.hidden_size // config.num_attention_heads
        self.start_id = self.tokenizer.cls_token_id
        self.end_id = self.tokenizer.sep_token_id
        self.pad_id = self.tokenizer.pad_token_id
        vocabulary = self.tokenizer.vocabulary
        self.domain_ids = {token_domain(token): index for index, token in enumerate(vocabulary) if token_domain(token)}
        self.banned_ids = sorted(
            {self.pad_id, self.start_id, self.tokenizer.unk_token_id}
            | ({self.tokenizer.mask_token_id} if "[MASK]" in vocabulary else set())
            | set(self.domain_ids.values())
        )
        self._step = tf.function(self._forward, reduce_retracing=True)

    def generate(
        self,
        prompts,
        max_length=64,
        strategy="greedy",
        k=10,
        p=0.9,
        temperature=1.0,
        seed=None,
        use_cache=True,
        start_ids=None,
    ):
        """Continues each prompt until `[SEP]` or `max_length` tokens.

        Args:
            prompts: a string or a list of strings.
            max_length: total tokens per sequence, prompt and `[CLS]` included.
            strategy: `"greedy"` (argmax), `"top_k"` (sample among the `k` most likely)
                or `"top_p"` (nucleus: sample among the most likely tokens whose
                probability adds up to `p`).
            k: the `k` of top-k.
            p: the `p` of top-p.
            temperature: divides the logits before sampling (greedy ignores it).
            seed: integer seed: the same seed gives the same samples. None: random.
            use_cache: decode with the key/value cache (False recomputes every prefix).
            start_ids: the first token of each prompt (e.g. its domain token); None:
                `[CLS]` for all.

        Returns:
            The generated texts (prompt included, as the tokenizer normalizes text), a
            string for a string prompt, else a list.
        """
        single = isinstance(prompts, str)
        token_ids, lengths = self._tokenize([prompts] if single else list(prompts), max_length, start_ids)
        generated, _ = self.generate_ids(
            token_ids, lengths, max_length, strategy, k, p, temperature, seed, use_cache
        )
        texts = self._detokenize(generated)
        return texts[0] if single else texts

    def generate_ids(
        self,
        token_ids,
        prompt_lengths,
        max_length,
        strategy="greedy",
        k=10,
        p=0.9,
        temperature=1.0,
        seed=None,
        use_cache=True,
        return_logits=False,
    ):
        """The token-level generation loop.

        Args:
            token_ids: int `[batch, n]` prompts, right-padded (n <= max_length).
            prompt_lengths: int `[batch]`, the tokens of each prompt (>= 1).
            max_length, strategy, k, p, temperature, seed, use_cache: see `generate`.
            return_logits: also return the logits each step decoded from.

        Returns:
            `(ids, logits)`: int32 `[batch, max_length]` (padded with `[PAD]` after a row's
            `[SEP]`), and float32 `[batch, steps, vocab]` where step `j` predicted position
            `min(prompt_lengths) + j` (None unless `return_logits`).
        """
        _check_strategy(strategy, k, p, temperature)
        token_ids = np.asarray(token_ids, np.int32)
        lengths = np.asarray(prompt_lengths, np.int32)
        batch = token_ids.shape[0]
        if not 1 <= max_length <= self.max_positions:
            raise XDomainError(f"max_length must be in [1, {self.max_positions}], got {max_length}")
        if lengths.min() < 1 or lengths.max() > max_length:
            raise XDomainError(f"prompts must have 1 to max_length ({max_length}) tokens, got {lengths.tolist()}")
        ids = np.full((batch, max_length), self.pad_id, np.int32)
        width = min(token_ids.shape[1], max_length)
        ids[:, :width] = token_ids[:, :width]
        in_prompt = np.arange(max_length)[None, :] < lengths[:, None]
        start = int(lengths.min())
        seed = int(np.random.randint(0, 2**31 - 1)) if seed is None else int(seed)
        done = np.zeros(batch, bool)
        steps_logits = []
        cache = self._empty_cache(batch, max_length) if use_cache else None
        if use_cache:
            logits, cache = self._step(tf.constant(ids[:, :start]), cache, tf.constant(0, tf.int32))
        for position in range(start, max_length):
            if not use_cache:
                logits = self._recompute(ids[:, :position])
            steps_logits.append(logits)
            chosen = self._choose(logits, strategy, k, p, temperature, (seed, position))
            prompt_token = in_prompt[:, position]
            chosen = np.where(prompt_token, ids[:, position], chosen)
            chosen = np.where(done & ~prompt_token, self.pad_id, chosen)
            ids[:, position] = chosen
            done |= (chosen == self.end_id) & ~prompt_token
            if done.all() and position + 1 >= lengths.max():
                ids[:, position + 1 :] = self.pad_id
                break
            if use_cache and position + 1 < max_length:
                logits, cache = self._step(
                    tf.constant(chosen[:, None]), cache, tf.constant(position, tf.int32)
                )
        stacked = None
        if return_logits:
            stacked = np.stack([np.asarray(step) for step in steps_logits], axis=1)
        return ids, stacked

    def _forward(self, token_ids, cache, index):
        """Runs `token_ids` (positions `index`...) through the blocks with the cache;
        returns the float32 logits of the last position and the new cache."""
        encoder = self.encoder
        x = encoder.embeddings(token_ids, segment_ids=tf.zeros_like(token_ids), start_index=index)
        new_cache = []
        for block, block_cache in zip(encoder.transformer_layers, cache):
            x, block_cache = block(x, causal=True, cache=block_cache, cache_index=index)
            new_cache.append(block_cache)
        if encoder.final_layer_norm is not None:
            x = encoder.final_layer_norm(x)
        logits = self.causal_lm.lm_head(x[:, -1:, :])[:, 0, :]
        return logits, tuple(new_cache)

    def _recompute(self, prefix):
        prefix = tf.constant(prefix)
        logits = self.causal_lm(
            {"token_ids": prefix, "segment_ids": tf.zeros_like(prefix), "padding_mask": tf.ones_like(prefix)},
            training=False,
        )
        return logits[:, -1, :]

    def _empty_cache(self, batch, max_length):
        dtype = self.encoder.embeddings.compute_dtype
        shape = (batch, 2, max_length, self.num_heads, self.head_size)
        return tuple(tf.zeros(shape, dtype) for _ in self.encoder.transformer_layers)

    def _choose(self, logits, strategy, k, p, temperature, seed):
        logits = tf.cast(logits, tf.float32)
        vocab = logits.shape[-1]
        banned = np.zeros(vocab, bool)
        banned[[i for i in self.banned_ids if i < vocab]] = True
        logits = tf.where(tf.constant(banned)[None, :], tf.float32.min, logits)
        if strategy == "greedy":
            return ops.convert_to_numpy(tf.argmax(logits, axis=-1, output_type=tf.int32))
        logits = logits / temperature
        if strategy == "top_k":
            values, indices = tf.math.top_k(logits, k=min(k, vocab))
            picked = tf.random.stateless_categorical(values, 1, seed=seed, dtype=tf.int32)
            return ops.convert_to_numpy(tf.gather(indices, picked, batch_dims=1)[:, 0])
        order = tf.argsort(logits, axis=-1, direction="DESCENDING")
        sorted_logits = tf.gather(logits, order, batch_dims=1)
        probabilities = tf.nn.softmax(sorted_logits, axis=-1)
        before = tf.cumsum(probabilities, axis=-1, exclusive=True)
        # Keep the most likely tokens until their mass reaches p (the top token always).
        sorted_logits = tf.where(before < p, sorted_logits, tf.float32.min)
        picked = tf.random.stateless_categorical(sorted_logits, 1, seed=seed, dtype=tf.int32)
        return ops.convert_to_numpy(tf.gather(order, picked, batch_dims=1)[:, 0])

    def _tokenize(self, prompts, max_length, start_ids=None):
        if not prompts:
            raise XDomainError("generate needs at least one prompt")
        if start_ids is None:
            start_ids = [self.start_id] * len(prompts)
        if len(start_ids) != len(prompts):
            raise XDomainError(f"{len(prompts)} prompts but {len(start_ids)} start ids")
        pieces = self.tokenizer.tokenize(tf.constant(prompts, tf.string)).to_list()
        rows = [[int(start)] + row for start, row in zip(start_ids, pieces)]
        too_long = [i for i, row in enumerate(rows) if len(row) >= max_length]
        if too_long:
            raise XDomainError(
                f"prompt {too_long[0]} has {len(rows[too_long[0]])} tokens with [CLS]; "
                f"max_length {max_length} leaves no room to generate"
            )
        lengths = np.array([len(row) for row in rows], np.int32)
        ids = np.full((len(rows), int(lengths.max())), self.pad_id, np.int32)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row
        return ids, lengths

    def _detokenize(self, ids):
        rows = []
        for row in ids.tolist():
            row = row[1:] if row and (row[0] == self.start_id or row[0] in self.domain_ids.values()) else row
            row = row[: row.index(self.end_id)] if self.end_id in row else row
            rows.append([token for token in row if token != self.pad_id])
        texts = self.tokenizer.detokenize(tf.ragged.constant(rows, dtype=tf.int32, ragged_rank=1))
        return [text.decode("utf-8") for text in texts.numpy().tolist()]


def _check_strategy(strategy, k, p, temperature):
    if strategy not in STRATEGIES:
        raise XDomainError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    if strategy == "top_k" and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise XDomainError(f"top_k needs an integer k >= 1, got {k!r}")
    if strategy == "top_p" and not 0 < p <= 1:
        raise XDomainError(f"top_p needs p in (0, 1], got {p!r}")
    if not temperature > 0:
        raise XDomainError(f"temperature must be > 0, got {temperature!r}")
