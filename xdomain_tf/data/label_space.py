"""Domains and their label sets, with the integer ids a model uses for them."""
import json

from xdomain_tf.data.record_schema import control_character, normalize_record
from xdomain_tf.errors import DataError, XDomainError
from xdomain_tf.utils.atomic import write_json_atomic
from xdomain_tf.utils.storage import storage_path


class LabelSpace:
    """The domains of a task and each domain's label set, mapped to integer ids.

    Build it from the training split with `from_records` (domains and labels sorted, so
    the ids are stable), save it into the run directory with `to_json`, and map
    evaluation records with `encode`: a domain or label that training did not see is a
    `DataError` listing the known ones.

    Args:
        labels: a mapping (or list of pairs) from domain name to that domain's labels, in
            id order.

    Example:

    >>> space = LabelSpace.from_records([
    ...     {"text": "a", "label": "sport", "domain": "news"},
    ...     {"text": "b", "label": "politics", "domain": "news"},
    ...     {"text": "c", "label": "games", "domain": "debian"},
    ...     {"text": "d", "label": "science", "domain": "debian"},
    ... ])
    >>> space.domains, space.labels("news")
    (('debian', 'news'), ('politics', 'sport'))
    >>> space.encode({"text": "e", "label": "sport", "domain": "news"})
    (1, 1)
    """

    def __init__(self, labels):
        items = list(labels.items()) if hasattr(labels, "items") else list(labels)
        if not items:
            raise XDomainError("a LabelSpace needs at least one domain")
        self._labels = {}
        for domain, domain_labels in items:
            if not isinstance(domain, str) or not domain:
                raise XDomainError(f"domain names must be non-empty strings, got {domain!r}")
            if control_character(domain) is not None:
                raise XDomainError(f"domain names must be printable, got {domain!r}")
            if domain in self._labels:
                raise XDomainError(f"domain {domain!r} is listed twice")
            domain_labels = tuple(domain_labels)
            if not domain_labels:
                raise XDomainError(f"domain {domain!r} has no labels")
            for label in domain_labels:
                if not isinstance(label, str) or not label:
                    raise XDomainError(
                        f"labels must be non-empty strings, got {label!r} in domain {domain!r}"
                    )
                if control_character(label) is not None:
                    raise XDomainError(
                        f"labels must be printable, got {label!r} in domain {domain!r}"
                    )
            if len(set(domain_labels)) != len(domain_labels):
                raise XDomainError(f"domain {domain!r} lists a label twice: {domain_labels}")
            self._labels[domain] = domain_labels
        self._domain_ids = {domain: index for index, domain in enumerate(self._labels)}
        self._label_ids = {
            domain: {label: index for index, label in enumerate(domain_labels)}
            for domain, domain_labels in self._labels.items()
        }

    @classmethod
    def from_records(cls, records):
        """Collects the domains and labels of training records, sorted.

        A domain with a single label is refused: its classifier head would learn nothing
        and report a perfect accuracy.

        Args:
            records: an iterable of record dicts, e.g. `read_records(paths)`.

        Raises:
            DataError: for a bad record.
            XDomainError: for no records, or a domain whose records all have one label.
        """
        seen = {}
        for index, record in enumerate(records, 1):
            record = normalize_record(record, line=index)
            seen.setdefault(record["domain"], set()).add(record["label"])
        if not seen:
            raise XDomainError("cannot build a LabelSpace from no records")
        single = [
            f"domain {domain!r} has only the label {next(iter(labels))!r}"
            for domain, labels in sorted(seen.items())
            if len(labels) == 1
        ]
        if single:
            raise XDomainError(
                f"the training data must give each domain at least two labels: {'; '.join(single)}"
            )
        return cls({domain: sorted(seen[domain]) for domain in sorted(seen)})

    @property
    def domains(self):
        """Domain names in id order."""
        return tuple(self._labels)

    @property
    def num_domains(self):
        return len(self._labels)

    @property
    def num_classes(self):
        """`{domain: number of labels}` in domain id order."""
        return {domain: len(labels) for domain, labels in self._labels.items()}

    def labels(self, domain):
        """The labels of `domain` in id order."""
        self.domain_id(domain)
        return self._labels[domain]

    def num_labels(self, domain):
        return len(self.labels(domain))

    def domain_id(self, domain):
        """The id of `domain`; a `DataError` listing the known domains if unknown."""
        try:
            return self._domain_ids[domain]
        except (KeyError, TypeError):
            raise DataError(
                f"unknown domain; known domains: {', '.join(self.domains)}",
                field="domain",
                value=domain,
            ) from None

    def label_id(self, domain, label):
        """The id of `label` within `domain`; a `DataError` listing the known labels if unknown."""
        self.domain_id(domain)
        ids = self._label_ids[domain]
        try:
            return ids[label]
        except (KeyError, TypeError):
            raise DataError(
                f"unknown label for domain {domain!r}; known labels: "
                f"{', '.join(self._labels[domain])}",
                field="label",
                value=label,
            ) from None

    def label_name(self, domain, label_id):
        """The label with id `label_id` in `domain`."""
        labels = self.labels(domain)
        if not 0 <= int(label_id) < len(labels):
            raise XDomainError(f"label id {label_id} out of range for domain {domain!r}")
        return labels[int(label_id)]

    def encode(self, record, path=None, line=None):
        """`(domain_id, label_id)` of a record (`label_id` is -1 when it has no label).

        Args:
            record: a record dict.
            path: the file it came from, for error messages.
            line: its line (or record index), for error messages.
        """
        try:
            domain_id = self.domain_id(record.get("domain"))
            label = record.get("label")
            label_id = -1 if label is None else self.label_id(record["domain"], label)
        except DataError as error:
            raise DataError(
                error.message, path=path, line=line, field=error.field, value=error.value
            ) from None
        return domain_id, label_id

    def to_dict(self):
        return {
            "domains": [
                {"name": domain, "labels": list(labels)} for domain, labels in self._labels.items()
            ]
        }

    @classmethod
    def from_dict(cls, values):
        try:
            return cls([(entry["name"], entry["labels"]) for entry in values["domains"]])
        except (KeyError, TypeError) as error:
            raise XDomainError(f"not a LabelSpace dict ({error!r})") from None

    def to_json(self, path):
        """Writes the label space as JSON to `path` (atomically)."""
        write_json_atomic(path, self.to_dict(), sort_keys=False)

    @classmethod
    def from_json(cls, path):
        """Reads a label space written by `to_json`."""
        return cls.from_dict(json.loads(storage_path(path).read_text(encoding="utf-8")))

    def __eq__(self, other):
        return isinstance(other, LabelSpace) and list(self._labels.items()) == list(
            other._labels.items()
        )

    def __repr__(self):
        shown = ", ".join(f"{domain}: {len(labels)}" for domain, labels in self._labels.items())
        return f"LabelSpace({shown})"
