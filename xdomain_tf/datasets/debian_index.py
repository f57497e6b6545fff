"""Reads `Packages` and `Translation-<lang>` files into plain Python structures.

Parse layer only (see `deb822`); `debian_archive` finds or downloads the files.
"""
import dataclasses
import os
import re

from xdomain_tf.datasets.deb822 import description_text, iter_paragraphs, open_index_lines
from xdomain_tf.errors import DataError

_TRANSLATION_NAME = re.compile(r"Translation-([A-Za-z]{2,3}(?:_[A-Za-z]{2})?)(?:\.[A-Za-z0-9]+)?$")


@dataclasses.dataclass
class PackageInfo:
    """What a `Packages` list says about one binary package.

    Args:
        package: binary package name.
        source: source package name (the binary name when `Source:` is absent).
        section: the Section without its `contrib/` / `non-free/` / `non-free-firmware/` prefix.
        tags: debtags from `Tag:` (e.g. `field::biology`).
        description_md5: md5 values of the package's English description.

    Example:

    >>> info = PackageInfo(package="starfield-data", source="starfield", section="games")
    >>> info.source, info.tags
    ('starfield', ())
    """

    package: str
    source: str
    section: str
    tags: tuple = ()
    description_md5: tuple = ()


def strip_section(section):
    """Drops the archive-area prefix of a Section: `contrib/net` -> `net`.

    >>> strip_section("non-free/science")
    'science'
    """
    return section.strip().rsplit("/", 1)[-1]


def translation_language(path):
    """The language code in a `..._i18n_Translation-<lang>[.ext]` file name, or None.

    >>> translation_language("x_main_i18n_Translation-pt_BR.lz4")
    'pt_BR'
    """
    match = _TRANSLATION_NAME.search(os.path.basename(os.fspath(path)))
    return match.group(1) if match else None


def read_packages(paths):
    """Reads `Packages` lists into a dict package name -> `PackageInfo`.

    Later stanzas of a package already seen (another version or list) only add
    their description md5; the first stanza's Section and Source are kept.

    Args:
        paths: `Packages` files (plain or compressed).

    Raises:
        DataError: a stanza without `Package:`.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "Packages"
    >>> _ = path.write_text("Package: gnuplot\\nSection: math\\nTag: field::mathematics\\n")
    >>> read_packages([path])
    {'gnuplot': PackageInfo(package='gnuplot', source='gnuplot', section='math', tags=('field::mathematics',), description_md5=())}
    """
    packages = {}
    for path in paths:
        for line, fields in iter_paragraphs(open_index_lines(path), path=path):
            name = fields.get("Package")
            if not name:
                raise DataError("stanza without Package", path=path, line=line, field="Package")
            md5 = fields.get("Description-md5")
            known = packages.get(name)
            if known is not None:
                if md5 and md5 not in known.description_md5:
                    known.description_md5 += (md5,)
                continue
            source = fields.get("Source", "").split("(")[0].strip() or name
            tags = tuple(t.strip() for t in fields.get("Tag", "").replace("\n", " ").split(",") if t.strip())
            packages[name] = PackageInfo(
                package=name,
                source=source,
                section=strip_section(fields.get("Section", "")),
                tags=tags,
                description_md5=(md5,) if md5 else (),
            )
    return packages


def read_translations(paths, language):
    """Reads `Translation-<language>` files.

    Args:
        paths: the files (plain or compressed).
        language: the language code; the description field is `Description-<language>`.

    Yields:
        dicts with package, md5, summary, text, path, line.

    Raises:
        DataError: a stanza missing `Package:` or its description field.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "Translation-de"
    >>> _ = path.write_text("Package: gnuplot\\nDescription-de: Plotprogramm\\n Zeichnet Graphen.\\n")
    >>> [(entry["package"], entry["text"]) for entry in read_translations([path], "de")]
    [('gnuplot', 'Plotprogramm\\nZeichnet Graphen.')]
    """
    field = f"Description-{language}"
    for path in paths:
        for line, fields in iter_paragraphs(open_index_lines(path), path=path):
            name = fields.get("Package")
            if not name:
                raise DataError("stanza without Package", path=path, line=line, field="Package")
            if field not in fields:
                raise DataError(
                    f"stanza for {name!r} has no {field}", path=path, line=line, field=field
                )
            summary, text = description_text(fields[field])
            yield {
                "package": name,
                "md5": fields.get("Description-md5", ""),
                "summary": summary,
                "text": text,
                "path": os.fspath(path),
                "line": line,
            }
