"""Hyperparameters of a BERT-style encoder, named as in a Hugging Face BERT config.json."""
import dataclasses
import json

from xdomain_tf.layers.activations import ACTIVATIONS
from xdomain_tf.utils.atomic import write_json_atomic
from xdomain_tf.utils.storage import storage_path

# Named architectures (hyperparameters only; a keras-hub "preset" also brings weights and a
# tokenizer, see `xdomain_tf.checkpoints.resolve_init`).
ARCHITECTURES = {
    "bert_tiny": dict(num_hidden_layers=2, hidden_size=128, num_attention_heads=2),
    "bert_mini": dict(num_hidden_layers=4, hidden_size=256, num_attention_heads=4),
    "bert_small": dict(num_hidden_layers=4, hidden_size=512, num_attention_heads=8),
    "bert_medium": dict(num_hidden_layers=8, hidden_size=512, num_attention_heads=8),
    "bert_base": dict(num_hidden_layers=12, hidden_size=768, num_attention_heads=12),
    "minilm_l6_h384": dict(
        num_hidden_layers=6, hidden_size=384, num_attention_heads=12, intermediate_size=1536
    ),
}


@dataclasses.dataclass
class EncoderConfig:
    """Configuration of a BERT-style encoder.

    Field names follow Hugging Face's `BertConfig`, so a checkpoint's config.json maps
    onto it one to one (`from_dict` ignores the keys it does not know only when asked).

    Args:
        vocab_size: size of the WordPiece vocabulary.
        hidden_size: width of every layer.
        num_hidden_layers: number of Transformer blocks.
        num_attention_heads: attention heads; must divide `hidden_size`.
        intermediate_size: feed-forward width; `4 * hidden_size` when None.
        max_position_embeddings: the longest sequence the position table holds.
        type_vocab_size: number of segment ids.
        hidden_dropout_prob: dropout after embeddings, attention output and feed-forward.
        attention_probs_dropout_prob: dropout on the attention probabilities.
        layer_norm_eps: LayerNormalization epsilon.
        hidden_act: feed-forward activation (`"gelu"` is the exact erf GELU, as BERT).
        pre_layer_norm: LayerNorm before each sub-layer instead of after (post-LN is BERT).
        layer_attention_heads: attention heads of each layer (a list of `num_hidden_layers`
            counts, each at most `num_attention_heads`), for an encoder whose heads were
            pruned; every head keeps `head_size = hidden_size / num_attention_heads`. None
            (default): `num_attention_heads` in every layer.
        layer_intermediate_sizes: feed-forward width of each layer (a list of
            `num_hidden_layers` widths), for pruned feed-forward units. None (default):
            `intermediate_size` in every layer.

    Example:

    >>> config = EncoderConfig.architecture("bert_tiny", vocab_size=1000)
    >>> config.intermediate_size
    512
    >>> pruned = EncoderConfig.architecture("bert_tiny", layer_attention_heads=[1, 2],
    ...                                     layer_intermediate_sizes=[100, 300])
    >>> [(pruned.heads_of(i), pruned.intermediate_size_of(i)) for i in range(2)], pruned.head_size
    ([(1, 100), (2, 300)], 64)
    >>> "layer_attention_heads" in config.to_dict(), pruned.to_dict()["layer_attention_heads"]
    (False, [1, 2])
    """

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = None
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    layer_norm_eps: float = 1e-12
    hidden_act: str = "gelu"
    pre_layer_norm: bool = False
    layer_attention_heads: list = None
    layer_intermediate_sizes: list = None

    def __post_init__(self):
        if self.intermediate_size is None:
            self.intermediate_size = 4 * self.hidden_size
        for name in (
            "vocab_size",
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "intermediate_size",
            "max_position_embeddings",
            "type_vocab_size",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"EncoderConfig.{name} must be a positive integer, got {value!r}")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"EncoderConfig: hidden_size {self.hidden_size} is not divisible by "
                f"num_attention_heads {self.num_attention_heads}"
            )
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"EncoderConfig.{name} must be in [0, 1), got {value!r}")
        if self.hidden_act not in ACTIVATIONS:
            raise ValueError(
                f"EncoderConfig.hidden_act {self.hidden_act!r} is not one of {', '.join(ACTIVATIONS)}"
            )
        for name, most in (("layer_attention_heads", self.num_attention_heads), ("layer_intermediate_sizes", None)):
            value = getattr(self, name)
            if value is None:
                continue
            value = list(value) if isinstance(value, (list, tuple)) else value
            if (
                not isinstance(value, list)
                or len(value) != self.num_hidden_layers
                or any(isinstance(item, bool) or not isinstance(item, int) or item < 1 for item in value)
                or (most is not None and max(value) > most)
            ):
                limit = f" of at most {most}" if most is not None else ""
                raise ValueError(
                    f"EncoderConfig.{name} must be a list of {self.num_hidden_layers} positive integers{limit}, "
                    f"got {getattr(self, name)!r}"
                )
            setattr(self, name, value)

    @property
    def head_size(self):
        return self.hidden_size // self.num_attention_heads

    @property
    def is_pruned(self):
        """True when per-layer head counts or feed-forward widths are set (a structurally
        pruned encoder)."""
        return self.layer_attention_heads is not None or self.layer_intermediate_sizes is not None

    def heads_of(self, layer):
        """The number of attention heads of layer `layer` (0-based)."""
        return self.num_attention_heads if self.layer_attention_heads is None else self.layer_attention_heads[layer]

    def intermediate_size_of(self, layer):
        """The feed-forward width of layer `layer` (0-based)."""
        return self.intermediate_size if self.layer_intermediate_sizes is None else self.layer_intermediate_sizes[layer]

    @classmethod
    def architecture_names(cls):
        """The names `architecture` accepts.

        Example:

        >>> EncoderConfig.architecture_names()[:2]
        ['bert_base', 'bert_medium']
        """
        return sorted(ARCHITECTURES)

    @classmethod
    def architecture(cls, name, **overrides):
        """A named architecture (BERT miniatures, BERT-base, MiniLM-L6-H384) with overrides.

        Only hyperparameters: the weights start fresh (pretrained weights and their
        tokenizer come from `xdomain_tf.checkpoints.resolve_init`).

        Args:
            name: one of `EncoderConfig.architecture_names()`.
            **overrides: fields to change.

        Example:

        >>> EncoderConfig.architecture("bert_mini", vocab_size=500).hidden_size
        256
        """
        if name not in ARCHITECTURES:
            raise ValueError(
                f"Unknown encoder architecture {name!r}; known architectures: {', '.join(sorted(ARCHITECTURES))}"
            )
        return cls.from_dict({**ARCHITECTURES[name], **overrides})

    @classmethod
    def preset_names(cls):
        """Alias of `architecture_names` (the older name).

        Example:

        >>> EncoderConfig.preset_names() == EncoderConfig.architecture_names()
        True
        """
        return cls.architecture_names()

    @classmethod
    def preset(cls, name, **overrides):
        """Alias of `architecture` (the older name).

        Example:

        >>> EncoderConfig.preset("bert_tiny") == EncoderConfig.architecture("bert_tiny")
        True
        """
        return cls.architecture(name, **overrides)

    @classmethod
    def from_dict(cls, values, ignore_unknown=False):
        """Builds a config from a dict such as a Hugging Face config.json.

        Args:
            values: field values.
            ignore_unknown: skip keys that are not fields (HF configs carry many);
                otherwise an unknown key is a ValueError.
        """
        fields = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - fields)
        if unknown and not ignore_unknown:
            raise ValueError(
                f"Unknown EncoderConfig field(s): {', '.join(unknown)}; known: {', '.join(sorted(fields))}"
            )
        return cls(**{key: value for key, value in values.items() if key in fields})

    def to_dict(self):
        """The fields as a dict; the per-layer fields only when set, so the dict of an
        unpruned encoder is what it was before they existed."""
        values = dataclasses.asdict(self)
        for name in ("layer_attention_heads", "layer_intermediate_sizes"):
            if values[name] is None:
                del values[name]
        return values

    def to_json(self, path):
        """Writes the config as JSON to `path` (atomically)."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def from_json(cls, path, ignore_unknown=False):
        """Reads a config written by `to_json` (or a HF config.json with `ignore_unknown`)."""
        text = storage_path(path).read_text(encoding="utf-8")
        return cls.from_dict(json.loads(text), ignore_unknown=ignore_unknown)
