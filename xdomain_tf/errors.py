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
