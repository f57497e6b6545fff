"""`read_examples`: a bounded sample of real records for warm-up, calibration and checks."""
from xdomain_tf.errors import XDomainError


def read_examples(paths, limit, domains=None, default_domain=None):
    """Reads up to `limit` records from data files, labels optional, in file order.

    Records of a domain outside `domains` are skipped (a check cannot score them). The
    files are streamed, and reading stops as soon as `limit` records are in.

    Args:
        paths: one data file or a list of them (any format `read_records` reads).
        limit: the most records to return.
        domains: the model's domain names; None keeps every record.
        default_domain: the domain of records that have none.

    Returns:
        A list of record dicts (`text`, `domain`, optional `text_pair`, `label`).

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "valid.jsonl"
    >>> _ = path.write_text('{"text": "a", "domain": "news"}\\n{"text": "b", "domain": "web"}\\n')
    >>> [record["text"] for record in read_examples(path, 10, domains=["news"])]
    ['a']
    """
    from xdomain_tf.data.readers import read_records

    if not paths:
        raise XDomainError("no data files to read examples from")
    examples = []
    for record in read_records(paths, default_domain=default_domain, require_label=False):
        if domains is not None and record["domain"] not in domains:
            continue
        examples.append(record)
        if len(examples) >= limit:
            break
    if not examples:
        shown = paths if isinstance(paths, (list, tuple)) else [paths]
        raise XDomainError(
            f"{', '.join(map(str, shown))}: no records of the model's domains "
            f"({', '.join(domains or [])})"
        )
    return examples
