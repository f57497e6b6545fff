"""The one record schema of xdomain_tf data files, and its validation.

A record is a dict with
- `text` (required, non-empty string),
- `label` (required for supervised data; a string, JSON integers are stored as strings),
- `domain` (required; a single-domain file may leave it out and be read with a default),
- optional `text_pair`, `lang` and `id` (an integer id is stored as a string).

Unknown extra fields are ignored. Leading and trailing white space is stripped from
`label`, `domain`, `lang` and `id` (not from the texts). An empty optional field counts as
absent. A `label` or `domain` holding a control or format character (Unicode categories
Cc and Cf, e.g. NUL, a tab or a zero-width space) is an error: it would silently make
a class or domain of its own.
"""
import unicodedata

from xdomain_tf.errors import DataError

FIELDS = ("text", "text_pair", "label", "domain", "lang", "id")
REQUIRED_FIELDS = ("text", "label", "domain")
_NAME_FIELDS = ("label", "domain", "lang", "id")
_INT_FIELDS = ("label", "id")
_CLASS_FIELDS = ("label", "domain")


def normalize_record(
    raw,
    default_domain=None,
    require_label=True,
    require_domain=True,
    path=None,
    line=None,
):
    """Validates one raw record and returns it in canonical form.

    Args:
        raw: a dict as parsed from a file (values may be of any type).
        default_domain: the domain of a record that has none.
        require_label: a missing label is an error (False for unlabeled data).
        require_domain: a missing domain (with no default) is an error.
        path: the file, for error messages.
        line: the 1-based line or record index, for error messages.

    Returns:
        A new dict holding only the schema fields that are set, all as `str`.

    Raises:
        DataError: naming the file, line, field and value at fault.

    Example:

    >>> normalize_record({"text": "hi", "label": 3, "extra": 1}, default_domain="news")
    {'text': 'hi', 'label': '3', 'domain': 'news'}
    """

    def fail(message, field, value=None):
        return DataError(message, path=path, line=line, field=field, value=value)

    if not isinstance(raw, dict):
        raise fail(f"expected an object with fields, got {type(raw).__name__}", None, raw)
    record = {}
    for field in FIELDS:
        value = raw.get(field)
        if value is None:
            continue
        if field in _INT_FIELDS and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise fail(f"must be a string, got {type(value).__name__}", field, value)
        _check_unicode(value, fail, field)
        if field in _NAME_FIELDS:
            value = value.strip()
        if not value.strip():
            if field in REQUIRED_FIELDS:
                raise fail("is empty", field, value)
            continue
        record[field] = value

    if "text" not in record:
        raise fail("missing required field", "text")
    if "label" not in record and require_label:
        raise fail("missing required field (unlabeled data needs require_label=False)", "label")
    if "domain" not in record:
        if default_domain is not None:
            record["domain"] = str(default_domain)
        elif require_domain:
            raise fail("missing required field (a single-domain file can be read with "
                       "default_domain=...)", "domain")
    for field in _CLASS_FIELDS:
        if field in record:
            _check_name(record[field], fail, field)
    return {field: record[field] for field in FIELDS if field in record}


def control_character(name):
    """The first control or format character (category Cc or Cf) in `name`, or None.

    Example:

    >>> control_character("sport\\x00"), control_character("café sport")
    ('\\x00', None)
    """
    if name.isprintable():  # the fast path: printable text has no Cc or Cf character
        return None
    for character in name:
        if unicodedata.category(character) in ("Cc", "Cf"):
            return character
    return None


def _check_name(value, fail, field):
    character = control_character(value)
    if character is not None:
        kind = "control" if unicodedata.category(character) == "Cc" else "format"
        raise fail(
            f"contains a {kind} character (U+{ord(character):04X} at offset "
            f"{value.index(character)}); labels and domain names must be printable",
            field,
            value,
        )


def _check_unicode(value, fail, field):
    # Readers decode with "surrogateescape", so undecodable bytes show up as lone
    # surrogates here; a JSON "\ud800" escape does too and is no more valid text.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        # Show the bytes around the first bad one, which may lie far into a long text.
        snippet = value[max(0, error.start - 20) : error.start + 20]
        try:
            shown = snippet.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            shown = snippet
        raise fail(f"is not valid UTF-8 text (bad character at offset {error.start})",
                   field, shown) from None
