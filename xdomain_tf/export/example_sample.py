"""`read_examples`: a bounded sample of real records for warm-up, calibration and checks."""
from xdomain_tf.errors import XDomainError


def read_examples(paths, limit, domains=None, default_domain=None):
    """Reads up to `limit` records from data files, labels optional, shared out among
    `domains`: each domain gets an equal share of `limit` first (in file order), and the
    rest is filled from the records read past a domain's share. A file sorted by domain
    therefore still calibrates and checks every domain, not only the first.

    Records of a domain outside `domains` are skipped (a check cannot score them). The
    files are streamed, and reading stops as soon as every domain has its share (at the
    end of the files when a domain has too few records); without `domains`, as soon as
    `limit` records are in.

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
    >>> _ = path.write_text("".join(f'{{"text": "{t}", "domain": "{d}"}}\\n' for d in ("news", "web") for t in "abc"))
    >>> [(record["domain"], record["text"]) for record in read_examples(path, 4, domains=["news", "web"])]
    [('news', 'a'), ('news', 'b'), ('web', 'a'), ('web', 'b')]
    """
    import collections

    from xdomain_tf.data.readers import read_records

    if not paths:
        raise XDomainError("no data files to read examples from")
    share = -(-limit // len(domains)) if domains else limit
    taken = collections.Counter()
    examples, spare = [], []
    for record in read_records(paths, default_domain=default_domain, require_label=False):
        if domains is not None and record["domain"] not in domains:
            continue
        if taken[record["domain"]] < share:
            taken[record["domain"]] += 1
            examples.append(record)
        elif len(spare) < limit:
            spare.append(record)
        if len(examples) >= limit:
            break
    examples = examples[:limit] + spare[: max(0, limit - len(examples))]
    if not examples:
        shown = paths if isinstance(paths, (list, tuple)) else [paths]
        raise XDomainError(
            f"{', '.join(map(str, shown))}: no records of the model's domains "
            f"({', '.join(domains or [])})"
        )
    return examples
