"""Builds a `FastBertNormalizer` model that normalizes like Hugging Face's BertNormalizer.

tensorflow-text's `FastBertNormalizer` op maps every code point through a table
(a darts-clone trie over the code point's UTF-8 bytes, in a flatbuffer). The table
it ships case-folds with NFKC (`"ß"` -> `"ss"`); here the same kind of table is
filled with Hugging Face's per-character rules instead, so one op (that TFLite
runs as a tf-text custom op) gives Hugging Face's normalization:

1. NUL, U+FFFD and the "other" characters Cc (except tab, newline, carriage
   return), Cf and Co are removed;
2. White_Space characters become a space;
3. with `strip_accents`: NFD, then non-spacing marks (Mn) are removed;
4. with `lowercase`: each character is lower-cased on its own (`str.lower`, so
   `"ß"` stays and a final capital sigma becomes `"σ"`);
5. invalid UTF-8 bytes are removed (as after `bytes.decode(errors="replace")`).

The tables come from Python's `unicodedata` (Unicode 14.0 on Python 3.11). An
exported SavedModel or TFLite file carries its table; a `.keras` file rebuilds it
on load, so only characters added between two Unicode versions could map
differently under another Python.
"""
import functools
import unicodedata

import flatbuffers
import numpy as np

# The "changed" flag, and the (offset, length) layout of a mapped string, that the
# FastBertNormalizer kernel decodes (tensorflow_text/core/kernels/fast_bert_normalizer.h).
_CHANGED = 0x40000000
_LENGTH_BITS = 6
_MAX_LENGTH = (1 << _LENGTH_BITS) - 1
_MAX_OFFSET = (1 << (30 - _LENGTH_BITS)) - 1
# darts-clone unit layout (see darts_clone_trie_wrapper.h): bits 0-7 label, bit 8
# "has a value", bits 10-30 the XOR offset to the children; value units set bit 31.
_HAS_VALUE = 1 << 8
_VALUE_UNIT = 1 << 31
_MAX_DIRECT_OFFSET = 1 << 21

_WHITE_SPACE = frozenset(
    [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
    + list(range(0x2000, 0x200B))
)
_REMOVED_CATEGORIES = frozenset(["Cc", "Cf", "Co"])


def bert_character_map(lowercase=True, strip_accents=True):
    """Every code point whose normalized form differs, as {code point: str}.

    >>> table = bert_character_map()
    >>> table[ord("É")], table[ord("\\u200b")], ord("ß") in table
    ('e', '', False)
    """
    # NUL is left out: it separates the characters in `_per_character` (and is removed).
    codes = [code for code in range(1, 0x110000) if not 0xD800 <= code <= 0xDFFF]
    chars = [chr(code) for code in codes]
    categories = [unicodedata.category(char) for char in chars]
    mapped = list(chars)
    if strip_accents:
        marks = {ord(c): None for c, category in zip(chars, categories) if category == "Mn"}
        mapped = _per_character(lambda text: unicodedata.normalize("NFD", text), mapped)
        mapped = [text.translate(marks) for text in mapped]
    if lowercase:
        mapped = _per_character(str.lower, mapped)
    table = {}
    for code, char, category, text in zip(codes, chars, categories, mapped):
        if code == 0xFFFD or (category in _REMOVED_CATEGORIES and char not in "\t\n\r"):
            text = ""
        elif code in _WHITE_SPACE:
            text = " "
        if text != char:
            table[code] = text
    table[0] = ""
    return table


def _per_character(function, texts):
    # Applies `function` to each text on its own, but in one call: NUL separates
    # them (it is caseless, so no final-sigma context, and has no decomposition).
    return function("\x00".join(texts)).split("\x00")


@functools.lru_cache(maxsize=8)
def build_bert_normalizer_model(lowercase=True, strip_accents=True):
    """The flatbuffer (bytes) for `tf_text.FastBertNormalizer(model_buffer=...)`.

    Built once per process and option pair (about a second or two).

    Args:
        lowercase: lower-case each character.
        strip_accents: NFD and remove non-spacing marks.

    Returns:
        bytes.
    """
    table = bert_character_map(lowercase, strip_accents)
    pool = bytearray()
    pool_offsets = {}
    values = {}
    for code, mapped in table.items():
        data = _CHANGED
        encoded = mapped.encode("utf-8")
        if encoded:
            if len(encoded) > _MAX_LENGTH:
                raise ValueError(f"U+{code:04X} maps to {len(encoded)} bytes (> {_MAX_LENGTH})")
            if encoded not in pool_offsets:
                pool_offsets[encoded] = len(pool)
                pool.extend(encoded)
            offset = pool_offsets[encoded]
            if offset > _MAX_OFFSET:
                raise ValueError("the normalized string pool is too large")
            data |= len(encoded) | (offset << _LENGTH_BITS)
        values[chr(code).encode("utf-8")] = data
    data_for_zero = values.pop(b"\x00", 0)
    for key in _invalid_utf8_pieces():
        values[key] = _CHANGED  # Removed, like U+FFFD after a lossy decode.
    trie = build_darts_trie(values)
    return _model_flatbuffer(trie, data_for_zero, bytes(pool), lowercase and strip_accents)


def _invalid_utf8_pieces():
    # The kernel looks up each ill-formed piece (a stray byte, or the start of a
    # valid sequence cut short) as one "character". Mapping all of them to ""
    # drops invalid bytes, as Hugging Face does after bytes.decode(errors="replace").
    continuation = range(0x80, 0xC0)
    pieces = [bytes([byte]) for byte in range(0x80, 0x100)]
    second_bytes = {0xE0: range(0xA0, 0xC0), 0xED: range(0x80, 0xA0)}
    for lead in range(0xE0, 0xF0):
        for second in second_bytes.get(lead, continuation):
            pieces.append(bytes([lead, second]))
    second_bytes = {0xF0: range(0x90, 0xC0), 0xF4: range(0x80, 0x90)}
    for lead in range(0xF0, 0xF5):
        for second in second_bytes.get(lead, continuation):
            pieces.append(bytes([lead, second]))
            pieces.extend(bytes([lead, second, third]) for third in continuation)
    return pieces


def build_darts_trie(values):
    """A darts-clone double-array trie (uint32 units) mapping byte keys to values.

    Identical sub-trees are stored once (their parents point at the same block)
    and every distinct leaf value once, which keeps large uniform ranges (e.g.
    the private-use planes, all removed) small.

    Args:
        values: dict bytes key -> int value in [0, 2**31); keys are non-empty and
            hold no NUL byte; a key may be a prefix of another.

    Returns:
        numpy uint32 array; unit 0 is the root.

    Example:

    >>> trie = build_darts_trie({b"a": 1, b"ab": 2})
    >>> trie.dtype.name, int(trie[0])
    ('uint32', 0)
    """
    root = {}
    for key, value in values.items():
        if not key or 0 in key:
            raise ValueError(f"bad trie key {key!r}")
        node = root
        for byte in key[:-1]:
            child = node.get(byte)
            if not isinstance(child, dict):
                child = {} if child is None else {None: child}
                node[byte] = child
            node = child
        last = node.get(key[-1])
        if isinstance(last, dict):
            last[None] = int(value)
        else:
            node[key[-1]] = int(value)

    # Hash-cons the nodes: one entry per distinct sub-tree. A node is
    # (its own value or None, ((label, child), ...)); a child is ("value", v) for a
    # leaf or the index of another node.
    signatures = {}
    nodes = []

    def intern(node):
        children = tuple(
            (label, intern(child) if isinstance(child, dict) else ("value", child))
            for label, child in sorted((k, v) for k, v in node.items() if k is not None)
        )
        signature = (node.get(None), children)
        if signature not in signatures:
            signatures[signature] = len(nodes)
            nodes.append(signature)
        return signatures[signature]

    root_index = intern(root)
    space = _Slots()
    space.take(0)
    # A node's own value sits at label 0 of its block (UTF-8 keys never use byte 0).
    bases = [
        space.place_block(([0] if own is not None else []) + [label for label, _ in children])
        for own, children in nodes
    ]
    value_slots = {}
    for _, children in nodes:
        for _, child in children:
            if isinstance(child, tuple) and child[1] not in value_slots:
                value_slots[child[1]] = space.take_free()

    units = np.zeros(space.size(), np.uint64)
    units[0] = _offset_bits(bases[root_index])
    for value, slot in value_slots.items():
        units[slot] = _VALUE_UNIT | value
    for (own, children), base in zip(nodes, bases):
        if own is not None:
            units[base] = _VALUE_UNIT | own
        for label, child in children:
            position = base ^ label
            if isinstance(child, tuple):
                target, flags = value_slots[child[1]], _HAS_VALUE
            else:
                target = bases[child]
                flags = _HAS_VALUE if nodes[child][0] is not None else 0
            units[position] = label | flags | _offset_bits(position ^ target)
    return units.astype(np.uint32)


def _offset_bits(offset):
    if offset >= _MAX_DIRECT_OFFSET:
        raise ValueError("trie too large for darts-clone offsets")
    return offset << 10


class _Slots:
    """Free/used bookkeeping of the double array, in blocks of 256 units."""

    def __init__(self):
        self.used = np.zeros(1 << 12, bool)
        self.bases = set()
        self.first_open_block = 0
        self.next_free = 0

    def size(self):
        used = np.nonzero(self.used)[0]
        return int(used[-1]) + 1 if len(used) else 1

    def _grow(self, needed):
        if needed > len(self.used):
            grown = np.zeros(max(needed, 2 * len(self.used)), bool)
            grown[: len(self.used)] = self.used
            self.used = grown

    def take(self, slot):
        self._grow(slot + 1)
        self.used[slot] = True

    def take_free(self):
        while True:
            self._grow(self.next_free + 1)
            if not self.used[self.next_free]:
                self.take(self.next_free)
                return self.next_free
            self.next_free += 1

    def place_block(self, labels):
        # A base b puts the children at b ^ label: all inside b's 256-unit block.
        labels = np.asarray(labels, np.int64)
        slots = np.arange(256)[:, None] ^ labels[None, :]
        block = self.first_open_block
        while True:
            self._grow((block + 1) * 256)
            free = ~self.used[block * 256 : (block + 1) * 256]
            if not free.any() and block == self.first_open_block:
                self.first_open_block += 1
            else:
                for low in np.nonzero(free[slots].all(axis=1))[0]:
                    base = block * 256 + int(low)
                    if base not in self.bases:
                        self.bases.add(base)
                        self.used[base ^ labels] = True
                        return base
            block += 1


def _model_flatbuffer(trie, data_for_zero, pool, lower_case_flag):
    builder = flatbuffers.Builder(trie.nbytes + len(pool) + 1024)
    pool_vector = builder.CreateNumpyVector(np.frombuffer(pool or b"\x00", np.uint8))
    trie_vector = builder.CreateNumpyVector(trie.astype("<u4"))
    # Table FastBertNormalizerModel: lower_case_nfd_strip_accents, trie_array,
    # data_for_codepoint_zero, normalized_string_pool (fast_bert_normalizer_model.fbs).
    builder.StartObject(4)
    builder.PrependUOffsetTRelativeSlot(3, pool_vector, 0)
    builder.PrependUOffsetTRelativeSlot(1, trie_vector, 0)
    builder.PrependInt32Slot(2, data_for_zero, 0)
    builder.PrependBoolSlot(0, bool(lower_case_flag), False)
    builder.Finish(builder.EndObject())
    return bytes(builder.Output())
