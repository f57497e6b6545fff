"""Student classifiers for distillation: an architecture with the teacher's tokenizer, or a
few of the teacher's own layers, optionally over a vocabulary trimmed to the domains' text."""
import dataclasses

import numpy as np

from xdomain_tf.errors import XDomainError
from xdomain_tf.models.encoder_config import EncoderConfig

# What `xdomain-tf distill` builds without --student, chosen by measurement on the
# quickstart's domains (benchmarks/compression.py): 2 of a fine-tuned MiniLM's 6 layers over
# the WordPieces the domains use kept 100% of its macro-F1 on both domains, 2.6-3.0x faster
# at batch 1 as TFLite, 0.45x the file; 3 layers were 1.97x faster and 0.53x the file.
DEFAULT_STUDENT = "layers=2,vocab=trim"
# SPEC option -> EncoderConfig field, for architecture students.
ARCHITECTURE_OPTIONS = {
    "layers": "num_hidden_layers",
    "hidden": "hidden_size",
    "heads": "num_attention_heads",
    "intermediate": "intermediate_size",
}
VOCABULARIES = ("full", "trim")
# Peak learning rates of the distillation's AdamW: fresh weights learn faster.
FRESH_LEARNING_RATE = 1e-3
CUT_LEARNING_RATE = 2e-4


@dataclasses.dataclass(frozen=True)
class StudentSpec:
    """A student, as `xdomain-tf distill --student SPEC` names it.

    SPEC is comma-separated: an optional architecture name first
    (`EncoderConfig.architecture_names()`), then `option=value` items:

    - `layers=K`: with an architecture, its number of layers; alone, a student cut from
      the teacher: K of its layers, evenly spaced from the first (teacher layers
      `floor(i * N / K)` for i < K of N, e.g. 0, 2, 4 of 6 and DistilBERT's 0, 2, ..., 10
      of 12), initialised from them with the teacher's embeddings, pooler and heads.
    - `hidden=H`, `heads=A`, `intermediate=F`: an architecture's width, attention heads
      and feed-forward width (narrower students; a cut student keeps the teacher's).
    - `vocab=trim`: keep only the WordPieces the training text uses within the sequence
      length (plus the special tokens): the same token ids on that text, renumbered
      (`xdomain_tf.text.trimmed_vocabulary`); a cut student gathers its embedding rows.
      `vocab=N`: at most N tokens (the special tokens, the single characters, then the
      most frequent pieces; words of dropped pieces split into shorter ones).
      `vocab=full` (the default) keeps the teacher's vocabulary.

    Every student tokenizes with the teacher's tokenizer (or its trimmed copy).

    Args:
        architecture: an architecture name, or None for a student cut from the teacher.
        layers: number of Transformer layers (None: the architecture's).
        hidden: hidden width (architectures only).
        heads: attention heads (architectures only).
        intermediate: feed-forward width (architectures only).
        vocabulary: `"full"`, `"trim"` or the most tokens to keep (an int).

    Example:

    >>> StudentSpec.parse("layers=3,vocab=trim")
    StudentSpec(architecture=None, layers=3, hidden=None, heads=None, intermediate=None, vocabulary='trim')
    >>> str(StudentSpec.parse("bert_tiny, hidden=64"))
    'bert_tiny,hidden=64'
    """

    architecture: str = None
    layers: int = None
    hidden: int = None
    heads: int = None
    intermediate: int = None
    vocabulary: str = "full"

    @classmethod
    def parse(cls, spec):
        """The `StudentSpec` of a SPEC string (see the class docstring); a one-line
        XDomainError names what is wrong.

        Args:
            spec: e.g. `"bert_tiny"`, `"layers=3"`, `"bert_mini,hidden=192,vocab=trim"`.

        Example:

        >>> StudentSpec.parse("bert_huge")
        Traceback (most recent call last):
        ...
        xdomain_tf.errors.XDomainError: student 'bert_huge': unknown architecture; known: bert_base, bert_medium, bert_mini, bert_small, bert_tiny, minilm_l6_h384 (or layers=K to cut the teacher)
        """
        if isinstance(spec, StudentSpec):
            return spec
        if not isinstance(spec, str) or not spec.strip():
            raise XDomainError(f"student must be a SPEC such as 'bert_tiny' or 'layers=3', got {spec!r}")
        items = [item.strip() for item in spec.split(",")]
        values = {}
        if "=" not in items[0]:
            name = items.pop(0)
            if name not in EncoderConfig.architecture_names():
                raise XDomainError(
                    f"student {spec!r}: unknown architecture; known: {', '.join(EncoderConfig.architecture_names())} "
                    "(or layers=K to cut the teacher)"
                )
            values["architecture"] = name
        for item in items:
            key, _, value = item.partition("=")
            key, value = key.strip(), value.strip()
            if key == "vocab":
                if value.isdigit() and int(value) > 0:
                    values["vocabulary"] = int(value)
                elif value in VOCABULARIES:
                    values["vocabulary"] = value
                else:
                    raise XDomainError(
                        f"student {spec!r}: vocab must be full, trim or a number of tokens, got {value!r}"
                    )
            elif key in ARCHITECTURE_OPTIONS:
                if key in values:
                    raise XDomainError(f"student {spec!r}: {key} given twice")
                values[key] = _positive(value, key, spec)
            else:
                raise XDomainError(
                    f"student {spec!r}: unknown option {item!r}; options: "
                    f"{', '.join(f'{name}=N' for name in ARCHITECTURE_OPTIONS)}, vocab=full|trim|N"
                )
        spec_value = cls(**values)
        if spec_value.architecture is None:
            if spec_value.layers is None:
                raise XDomainError(f"student {spec!r}: name an architecture, or layers=K to cut the teacher")
            widths = [name for name in ("hidden", "heads", "intermediate") if getattr(spec_value, name) is not None]
            if widths:
                raise XDomainError(
                    f"student {spec!r}: a student cut from the teacher keeps its {', '.join(widths)}; "
                    "name an architecture for a narrower student"
                )
        return spec_value

    @property
    def is_cut(self):
        """True for a student cut from the teacher's layers."""
        return self.architecture is None

    def __str__(self):
        items = [self.architecture] if self.architecture else []
        items += [f"{name}={getattr(self, name)}" for name in ARCHITECTURE_OPTIONS if getattr(self, name) is not None]
        if self.vocabulary != "full":
            items.append(f"vocab={self.vocabulary}")
        return ",".join(items)


@dataclasses.dataclass
class Student:
    """What `build_student` returns.

    Args:
        classifier: the student `MultiDomainTextClassifier` (the teacher's domains and labels).
        spec: its `StudentSpec`.
        layer_map: for each of the student's hidden states (index 0 the embeddings, i the
            output of layer i), the teacher hidden state it learns from in intermediate
            transfer: for a cut student the layer it was copied from, else evenly spaced
            (`round(i * N / K)`).
        teacher_layers: the teacher layers a cut student was copied from (else None).

    Example:

    >>> Student(classifier=None, spec=StudentSpec(layers=2), layer_map=[0, 1, 4], teacher_layers=[0, 3]).layer_map
    [0, 1, 4]
    """

    classifier: object
    spec: StudentSpec
    layer_map: list
    teacher_layers: list = None


def cut_layers(teacher_depth, layers):
    """The teacher layers a `layers=K` student keeps: evenly spaced from the first.

    Args:
        teacher_depth: the teacher's number of layers N.
        layers: K, 1 <= K <= N.

    Example:

    >>> cut_layers(6, 3), cut_layers(12, 6), cut_layers(6, 2), cut_layers(6, 6)
    ([0, 2, 4], [0, 2, 4, 6, 8, 10], [0, 3], [0, 1, 2, 3, 4, 5])
    >>> cut_layers(6, 7)
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: layers=7: the teacher has 6 layers; K must be between 1 and 6
    """
    if isinstance(layers, bool) or not isinstance(layers, int) or not 1 <= layers <= teacher_depth:
        raise XDomainError(
            f"layers={layers}: the teacher has {teacher_depth} layers; K must be between 1 and {teacher_depth}"
        )
    return [index * teacher_depth // layers for index in range(layers)]


def build_student(teacher, spec, texts=None):
    """Builds a student of `teacher`: same domains, labels, pooling and tokenizer
    (options, sequence length), the encoder that `spec` describes.

    Args:
        teacher: a `MultiDomainTextClassifier`.
        spec: a SPEC string or `StudentSpec` (see `StudentSpec`).
        texts: the training texts (both segments), needed by `vocab=trim`.

    Returns:
        A `Student`.

    Example:

    >>> from xdomain_tf.tasks import MultiDomainTextClassifier
    >>> texts = ["a late goal won the cup", "shares fell on the market"]
    >>> teacher = MultiDomainTextClassifier.from_preset(
    ...     "bert_mini", domains={"news": ["business", "sport"]}, sequence_length=16,
    ...     vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "goal", "shares", "cup", "tennis"])
    >>> student = build_student(teacher, "layers=2,vocab=trim", texts=texts)
    >>> student.teacher_layers, student.layer_map, student.classifier.preprocessor.tokenizer.vocabulary[5:]
    ([0, 2], [0, 1, 3], ['goal', 'shares', 'cup'])
    >>> build_student(teacher, "bert_tiny").layer_map
    [0, 2, 4]
    """
    from xdomain_tf.tasks.multi_domain_text_classifier import MultiDomainTextClassifier

    spec = StudentSpec.parse(spec)
    if not isinstance(teacher, MultiDomainTextClassifier):
        raise XDomainError(f"the teacher must be a MultiDomainTextClassifier, got {type(teacher).__name__}")
    if teacher.preprocessor is None:
        raise XDomainError("the teacher has no preprocessor (tokenizer): the student tokenizes as the teacher does")
    teacher_config = teacher.encoder.encoder_config
    depth = teacher_config.num_hidden_layers
    kept_layers = cut_layers(depth, spec.layers) if spec.is_cut else None
    preprocessor, kept_ids = _student_preprocessor(teacher.preprocessor, spec, texts)
    vocab_size = len(kept_ids) if kept_ids is not None else teacher_config.vocab_size
    if spec.is_cut:
        encoder = _cut_encoder(teacher.encoder, kept_layers, kept_ids)
        layer_map = [0] + [layer + 1 for layer in kept_layers]
    else:
        encoder = _architecture_encoder(spec, teacher_config, vocab_size)
        layers = encoder.encoder_config.num_hidden_layers
        layer_map = [round(index * depth / layers) for index in range(layers + 1)]
    classifier = MultiDomainTextClassifier(
        encoder,
        teacher.domains,
        preprocessor=preprocessor,
        dropout=teacher.dropout,
        pooling=teacher.pooling,
        learning_rate=CUT_LEARNING_RATE if spec.is_cut else FRESH_LEARNING_RATE,
    )
    if spec.is_cut:
        for student_head, teacher_head in zip(classifier.heads, teacher.heads):
            student_head.set_weights(teacher_head.get_weights())
    return Student(classifier, spec, layer_map, kept_layers)


def _positive(value, key, spec):
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise XDomainError(f"student {spec!r}: {key} must be a positive integer, got {value!r}")
    return number


def _student_preprocessor(preprocessor, spec, texts):
    """The teacher's preprocessor (a copy), over a trimmed vocabulary when asked; and the
    kept ids (None for the full vocabulary)."""
    from xdomain_tf.text import Preprocessor
    from xdomain_tf.text.trimmed_vocabulary import trimmed_vocabulary

    if spec.vocabulary == "full":
        return preprocessor.with_options(), None
    if texts is None:
        raise XDomainError(f"vocab={spec.vocabulary} needs the training texts (the WordPieces they use are kept)")
    # The model sees at most `sequence_length` pieces of a segment: the pieces past that never reach it.
    trimmed = trimmed_vocabulary(
        preprocessor.tokenizer, texts, max_tokens=preprocessor.sequence_length,
        max_size=None if spec.vocabulary == "trim" else spec.vocabulary,
    )
    options = {key: getattr(preprocessor, key) for key in ("sequence_length", "truncation", "pad_to", "pad_to_multiple_of")}
    return Preprocessor(trimmed.tokenizer, **options), trimmed.kept_ids


def _architecture_encoder(spec, teacher_config, vocab_size):
    from xdomain_tf.models.transformer_encoder import TransformerEncoder

    overrides = {
        field: getattr(spec, option) for option, field in ARCHITECTURE_OPTIONS.items() if getattr(spec, option) is not None
    }
    if spec.hidden is not None and spec.intermediate is None:
        overrides["intermediate_size"] = 4 * spec.hidden
    try:
        config = EncoderConfig.architecture(
            spec.architecture,
            vocab_size=vocab_size,
            max_position_embeddings=teacher_config.max_position_embeddings,
            type_vocab_size=teacher_config.type_vocab_size,
            **overrides,
        )
    except ValueError as error:
        raise XDomainError(f"student {spec}: {error}") from None
    return TransformerEncoder(config, name="encoder")


def _cut_encoder(teacher_encoder, kept_layers, kept_ids):
    """A `TransformerEncoder` of the teacher's `kept_layers` (its layer i is teacher layer
    `kept_layers[i]`), the teacher's embeddings (rows `kept_ids`), pooler and final norm."""
    from xdomain_tf.checkpoints import plain_encoder
    from xdomain_tf.models.transformer_encoder import TransformerEncoder

    source = plain_encoder(teacher_encoder)
    changes = {"num_hidden_layers": len(kept_layers)}
    for name in ("layer_attention_heads", "layer_intermediate_sizes"):  # a pruned teacher's per-layer sizes
        values = getattr(source.encoder_config, name, None)
        if values is not None:
            changes[name] = [values[layer] for layer in kept_layers]
    config = dataclasses.replace(source.encoder_config, **changes)
    if kept_ids is not None:
        config = dataclasses.replace(config, vocab_size=len(kept_ids))
    student = TransformerEncoder(config, name="encoder")
    by_path = {weight.path.removeprefix(f"{source.name}/"): weight for weight in source.weights}
    renamed = {f"transformer_layer_{index}/": f"transformer_layer_{layer}/" for index, layer in enumerate(kept_layers)}
    for weight in student.weights:
        path = weight.path.removeprefix(f"{student.name}/")
        block = path.split("/", 1)[0] + "/"
        source_path = renamed[block] + path[len(block):] if block in renamed else path
        value = np.asarray(by_path[source_path].numpy())
        if source_path == "embeddings/token_embedding/embeddings" and kept_ids is not None:
            value = value[kept_ids]
        weight.assign(value)
    return student
