"""What a read of data files found: record counts and the records it skipped."""
import collections


class ReadReport:
    """Counts of a `read_records` pass and the bad records it skipped (with `on_error="skip"`).

    Args:
        max_kept: how many skipped records to keep with their reasons; the count
            `skipped` stays exact beyond it.

    Attributes:
        records: records read successfully.
        skipped: bad records skipped.
        domains: `collections.Counter` of records per domain.
        skipped_records: dicts `{"path", "line", "field", "message"}`, at most `max_kept`.

    Example:

    >>> from xdomain_tf.errors import DataError
    >>> report = ReadReport()
    >>> report.add_record({"text": "a", "domain": "news"})
    >>> report.add_skip(DataError("is empty", path="a.jsonl", line=2, field="text"))
    >>> report.summary()
    'read 1 record, skipped 1 bad record: a.jsonl:2: field "text": is empty'
    """

    def __init__(self, max_kept=1000):
        self.max_kept = max_kept
        self.records = 0
        self.skipped = 0
        self.domains = collections.Counter()
        self.skipped_records = []

    def add_record(self, record):
        self.records += 1
        self.domains[record.get("domain")] += 1

    def add_skip(self, error):
        self.skipped += 1
        if len(self.skipped_records) < self.max_kept:
            self.skipped_records.append(
                {
                    "path": None if error.path is None else str(error.path),
                    "line": error.line,
                    "field": error.field,
                    "message": str(error),
                }
            )

    def summary(self, max_shown=5):
        """One line: counts and the first `max_shown` skipped records."""
        text = f"read {_plural(self.records, 'record')}"
        if self.skipped:
            text += f", skipped {_plural(self.skipped, 'bad record')}: "
            shown = [entry["message"] for entry in self.skipped_records[:max_shown]]
            text += "; ".join(shown)
            if self.skipped > len(shown):
                text += f"; ... ({self.skipped - len(shown)} more)"
        return text

    def to_dict(self):
        return {
            "records": self.records,
            "skipped": self.skipped,
            "domains": dict(sorted(self.domains.items(), key=lambda item: str(item[0]))),
            "skipped_records": list(self.skipped_records),
        }

    def __repr__(self):
        return f"ReadReport(records={self.records}, skipped={self.skipped})"


def _plural(count, noun):
    return f"{count} {noun}" + ("" if count == 1 else "s")
