"""A tiny synthetic corpus with learnable regularities, its vocabulary and encoder config."""
import json

import numpy as np

from xdomain_tf.models import EncoderConfig

PETS = {"cat": "fish", "dog": "bones", "bird": "seeds", "cow": "grass", "horse": "hay"}
TECH = {"laptop": "linux", "phone": "android", "server": "debian", "watch": "wearos"}
GERMAN = {
    "the": "der", "eats": "frisst", "runs": "laeuft", "and": "und", "sleeps": "schlaeft", "is": "ist",
    "happy": "froh", "fast": "schnell", "cat": "katze", "dog": "hund", "bird": "vogel", "cow": "kuh",
    "horse": "pferd", "fish": "fisch", "bones": "knochen", "seeds": "samen", "grass": "gras", "hay": "heu",
    "laptop": "klapprechner", "phone": "telefon", "server": "rechner", "watch": "uhr", "linux": "linux",
    "android": "android", "debian": "debian", "wearos": "wearos", ".": ".",
}
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
VOCABULARY = SPECIAL + sorted(set(GERMAN) | set(GERMAN.values()))


def pets_text(rng):
    animal = rng.choice(sorted(PETS))
    return f"the {animal} eats {PETS[animal]} . the {animal} is happy ."


def tech_text(rng):
    device = rng.choice(sorted(TECH))
    return f"the {device} runs {TECH[device]} . the {device} is fast ."


def german(text):
    return " ".join(GERMAN[word] for word in text.split())


def write_corpus(path, count=120, seed=0, with_labels=False):
    """Half `pets`, half `tech` English records (one JSON a line)."""
    rng = np.random.default_rng(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for index in range(count):
            domain = "pets" if index % 2 else "tech"
            text = pets_text(rng) if domain == "pets" else tech_text(rng)
            record = {"text": text, "domain": domain, "lang": "en"}
            if with_labels:
                record["label"] = "a" if index % 4 < 2 else "b"
            handle.write(json.dumps(record) + "\n")
    return path


def write_pairs(path, count=60, seed=0):
    """English -> pseudo-German translation pairs with varied sentences."""
    rng = np.random.default_rng(seed)
    words = sorted(set(PETS) | set(TECH))
    with open(path, "w", encoding="utf-8") as handle:
        for _ in range(count):
            picked = rng.choice(words, size=3, replace=False)
            text = f"the {picked[0]} and the {picked[1]} and the {picked[2]} ."
            handle.write(json.dumps({"text": text, "text_pair": german(text), "domain": "pets", "lang": "de"}) + "\n")
    return path


def tiny_config(**overrides):
    values = dict(
        vocab_size=len(VOCABULARY), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    values.update(overrides)
    return EncoderConfig(**values)
