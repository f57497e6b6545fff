import pytest

from xdomain_tf.data.label_space import LabelSpace
from xdomain_tf.errors import DataError, XDomainError

TRAIN = [
    {"text": "t", "label": "sport", "domain": "news"},
    {"text": "t", "label": "games", "domain": "debian"},
    {"text": "t", "label": "business", "domain": "news"},
    {"text": "t", "label": 10, "domain": "debian"},
    {"text": "t", "label": "sport", "domain": "news"},
]


def test_sorted_ids_from_training_records():
    space = LabelSpace.from_records(reversed(TRAIN))
    assert space == LabelSpace.from_records(TRAIN)
    assert space.domains == ("debian", "news") and space.num_domains == 2
    assert space.labels("debian") == ("10", "games")
    assert space.labels("news") == ("business", "sport")
    assert space.num_classes == {"debian": 2, "news": 2}
    assert space.domain_id("news") == 1
    assert space.label_id("news", "sport") == 1
    assert space.label_name("debian", 1) == "games"
    assert space.encode({"text": "x", "label": "business", "domain": "news"}) == (1, 0)
    assert space.encode({"text": "x", "domain": "news"}) == (1, -1)


def test_json_round_trip_keeps_order(tmp_path):
    space = LabelSpace([("zeta", ["b", "a"]), ("alpha", ["x"])])
    space.to_json(tmp_path / "labels.json")
    loaded = LabelSpace.from_json(tmp_path / "labels.json")
    assert loaded == space and loaded.domains == ("zeta", "alpha")
    assert loaded.label_id("zeta", "a") == 1


def test_unseen_domain_and_label_list_the_known_ones():
    space = LabelSpace.from_records(TRAIN)
    with pytest.raises(DataError, match=r'eval.jsonl:7: field "domain": unknown domain; '
                                        r"known domains: debian, news \(value 'law'\)"):
        space.encode({"text": "x", "label": "a", "domain": "law"}, path="eval.jsonl", line=7)
    with pytest.raises(DataError, match=r"known labels: business, sport \(value 'tech'\)"):
        space.encode({"text": "x", "label": "tech", "domain": "news"})
    with pytest.raises(DataError, match="unknown domain"):
        space.label_id("law", "a")


def test_invalid_spaces():
    with pytest.raises(XDomainError, match="at least one domain"):
        LabelSpace({})
    with pytest.raises(XDomainError, match="twice"):
        LabelSpace({"a": ["x", "x"]})
    with pytest.raises(XDomainError, match="no labels"):
        LabelSpace({"a": []})
    with pytest.raises(DataError, match="label"):
        LabelSpace.from_records([{"text": "x", "domain": "a"}])
    with pytest.raises(XDomainError, match="out of range"):
        LabelSpace({"a": ["x"]}).label_name("a", 1)


def test_a_domain_with_one_training_label_is_refused_naming_it():
    records = TRAIN + [{"text": "t", "label": "sport", "domain": "web"},
                       {"text": "t", "label": "x", "domain": "zoo"}]
    with pytest.raises(XDomainError) as info:
        LabelSpace.from_records(records)
    assert str(info.value) == (
        "the training data must give each domain at least two labels: domain 'web' has only "
        "the label 'sport'; domain 'zoo' has only the label 'x'"
    )
    # Evaluation data with one label is fine: it is encoded with the training space.
    space = LabelSpace.from_records(TRAIN)
    assert [space.encode(r) for r in TRAIN if r["domain"] == "news"][:1] == [(1, 1)]


def test_a_label_space_refuses_unprintable_names():
    with pytest.raises(XDomainError, match=r"labels must be printable, got 'sport\\x00' in domain 'news'"):
        LabelSpace({"news": ["sport", "sport\x00"]})
    with pytest.raises(XDomainError, match=r"domain names must be printable, got 'news\\n'"):
        LabelSpace({"news\n": ["a", "b"]})
