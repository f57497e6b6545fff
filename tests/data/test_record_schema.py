import pytest

from xdomain_tf.data.record_schema import normalize_record
from xdomain_tf.errors import DataError


def test_canonical_form_keeps_schema_fields_as_strings():
    raw = {"id": 7, "text": "A text", "text_pair": "B", "label": 3, "domain": " news ",
           "lang": "en", "extra": [1, 2]}
    assert normalize_record(raw) == {
        "text": "A text", "text_pair": "B", "label": "3", "domain": "news", "lang": "en", "id": "7"
    }


def test_defaults_and_optional_fields():
    assert normalize_record({"text": "x", "label": "a"}, default_domain="d") == {
        "text": "x", "label": "a", "domain": "d"}
    # A record's own domain wins over the default; empty optional fields count as absent.
    assert normalize_record({"text": "x", "label": "a", "domain": "e", "text_pair": "", "lang": None},
                            default_domain="d") == {"text": "x", "label": "a", "domain": "e"}
    assert normalize_record({"text": "x", "domain": "d"}, require_label=False) == {
        "text": "x", "domain": "d"}


@pytest.mark.parametrize(
    "raw, field, value, message",
    [
        ({"label": "a", "domain": "d"}, "text", None, "missing required field"),
        ({"text": "  \n", "label": "a", "domain": "d"}, "text", "  \n", "is empty"),
        ({"text": 5, "label": "a", "domain": "d"}, "text", 5, "must be a string, got int"),
        ({"text": "x", "domain": "d"}, "label", None, "missing required field"),
        ({"text": "x", "label": "", "domain": "d"}, "label", "", "is empty"),
        ({"text": "x", "label": 1.5, "domain": "d"}, "label", 1.5, "got float"),
        ({"text": "x", "label": True, "domain": "d"}, "label", True, "got bool"),
        ({"text": "x", "label": "a"}, "domain", None, "default_domain"),
        ({"text": "x", "label": "a", "domain": 3}, "domain", 3, "got int"),
        ({"text": "x", "label": "a", "domain": "d", "text_pair": ["y"]}, "text_pair", ["y"], "got list"),
        ({"text": "ok \udcff", "label": "a", "domain": "d"}, "text", b"ok \xff", "not valid UTF-8"),
    ],
)
def test_bad_records_name_file_line_field_value(raw, field, value, message):
    with pytest.raises(DataError, match=message) as info:
        normalize_record(raw, path="f.jsonl", line=4)
    error = info.value
    assert (error.path, error.line, error.field) == ("f.jsonl", 4, field)
    assert str(error).startswith(f'f.jsonl:4: field "{field}": ')
    assert error.value == value
    if value is not None:
        assert f"(value {value!r})" in str(error)


def test_not_an_object():
    with pytest.raises(DataError, match="expected an object.*got list"):
        normalize_record([1, 2], path="f.jsonl", line=1)


@pytest.mark.parametrize(
    "field, value, shown",
    [
        ("label", "sport\x00", "a control character (U+0000 at offset 5)"),
        ("label", "spo\nrt", "a control character (U+000A at offset 3)"),
        ("domain", "ne\tws", "a control character (U+0009 at offset 2)"),
        ("domain", "\u200bnews", "a format character (U+200B at offset 0)"),
        ("label", "sp\u00adort", "a format character (U+00AD at offset 2)"),
    ],
)
def test_control_characters_in_labels_and_domains_are_refused(field, value, shown):
    raw = {"text": "x", "label": "sport", "domain": "news", field: value}
    with pytest.raises(DataError) as info:
        normalize_record(raw, path="f.jsonl", line=2)
    assert str(info.value) == (
        f'f.jsonl:2: field "{field}": contains {shown}; labels and domain names must be '
        f"printable (value {value!r})"
    )


def test_white_space_around_names_is_stripped_and_printable_names_pass():
    raw = {"text": "tab\there", "label": "\tsport\n", "domain": "caf\u00e9\u00a0news", "id": "a\x00"}
    assert normalize_record(raw) == {
        "text": "tab\there", "label": "sport", "domain": "caf\u00e9\u00a0news", "id": "a\x00"}
    with pytest.raises(DataError, match=r'field "domain": contains a control character \(U\+0007'):
        normalize_record({"text": "x", "label": "a"}, default_domain="ne\x07ws")
