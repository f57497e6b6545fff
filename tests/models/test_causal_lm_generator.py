import keras
import numpy as np
import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.models import CausalLM, CausalLMGenerator, EncoderConfig, TransformerEncoder
from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(25)]
CONFIG = EncoderConfig(
    vocab_size=len(VOCAB), hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
    max_position_embeddings=24, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
)


@pytest.fixture(scope="module")
def generator():
    keras.utils.set_random_seed(3)
    lm = CausalLM(TransformerEncoder(CONFIG, causal=True))
    # A large output bias on [SEP] would end generation at once; keep the logits flat but varied.
    return CausalLMGenerator(lm, WordPieceTokenizer(VOCAB))


def _prompts(generator):
    return generator._tokenize(["w1 w2 w3", "w4", "w5 w6"], max_length=12)


def test_cached_decoding_gives_the_logits_of_full_recomputation(generator):
    ids, lengths = _prompts(generator)
    cached, cached_logits = generator.generate_ids(ids, lengths, 12, return_logits=True)
    full, full_logits = generator.generate_ids(ids, lengths, 12, use_cache=False, return_logits=True)
    np.testing.assert_array_equal(cached, full)
    np.testing.assert_allclose(cached_logits, full_logits, atol=1e-4)
    # And they equal one forward pass of the model over the final sequences.
    forward = generator.causal_lm(
        {"token_ids": cached, "segment_ids": 0 * cached, "padding_mask": np.ones_like(cached)}
    ).numpy()
    start = int(lengths.min())
    steps = cached_logits.shape[1]
    np.testing.assert_allclose(cached_logits, forward[:, start - 1 : start - 1 + steps], atol=1e-4)


def test_cached_decoding_of_a_pre_layer_norm_model_applies_the_final_layer_norm():
    keras.utils.set_random_seed(4)
    config = EncoderConfig.from_dict({**CONFIG.to_dict(), "pre_layer_norm": True})
    generator = CausalLMGenerator(CausalLM(TransformerEncoder(config, causal=True)), WordPieceTokenizer(VOCAB))
    ids, lengths = _prompts(generator)
    cached, cached_logits = generator.generate_ids(ids, lengths, 12, return_logits=True)
    full, full_logits = generator.generate_ids(ids, lengths, 12, use_cache=False, return_logits=True)
    np.testing.assert_array_equal(cached, full)
    np.testing.assert_allclose(cached_logits, full_logits, atol=1e-4)


def test_prompts_are_kept_and_rows_end_at_sep(generator):
    ids, lengths = _prompts(generator)
    out, _ = generator.generate_ids(ids, lengths, 12, strategy="top_k", k=5, seed=0)
    for row, prompt, length in zip(out, ids, lengths):
        assert row[:length].tolist() == prompt[:length].tolist()
        generated = row[length:].tolist()
        assert not set(generated) & {1, 2, 4}  # never [UNK], [CLS], [MASK]
        if 3 in generated:  # after [SEP], only padding
            assert set(generated[generated.index(3) + 1 :]) <= {0}
        else:
            assert 0 not in generated


def test_greedy_is_deterministic_and_sampling_is_seeded(generator):
    prompts = ["w1 w2", "w3", "w7 w8 w9"]
    greedy = generator.generate(prompts, max_length=12)
    assert greedy == generator.generate(prompts, max_length=12)
    assert greedy == generator.generate(prompts, max_length=12, strategy="top_k", k=1, seed=5)
    assert greedy == generator.generate(prompts, max_length=12, strategy="top_p", p=1e-6, seed=5)
    for strategy in ("top_k", "top_p"):
        a = generator.generate(prompts, max_length=12, strategy=strategy, k=8, p=0.95, temperature=2.0, seed=11)
        assert a == generator.generate(prompts, max_length=12, strategy=strategy, k=8, p=0.95, temperature=2.0, seed=11)
        others = [
            generator.generate(prompts, max_length=12, strategy=strategy, k=8, p=0.95, temperature=2.0, seed=s)
            for s in (12, 13)
        ]
        assert any(other != a for other in others)
    assert all(text.startswith(prompt) for text, prompt in zip(greedy, prompts))
    assert isinstance(generator.generate("w1", max_length=6), str)


def test_bad_arguments_are_user_errors(generator):
    with pytest.raises(XDomainError, match="strategy"):
        generator.generate("w1", strategy="beam")
    with pytest.raises(XDomainError, match="no room"):
        generator.generate("w1 w2 w3", max_length=4)
    with pytest.raises(XDomainError, match="max_length"):
        generator.generate("w1", max_length=100)


def test_a_pruned_encoder_is_refused_in_one_line():
    import dataclasses

    pruned = dataclasses.replace(CONFIG, layer_attention_heads=[1, 2])
    with pytest.raises(XDomainError, match="structurally pruned"):
        CausalLMGenerator(CausalLM(TransformerEncoder(pruned, causal=True)), WordPieceTokenizer(VOCAB))
