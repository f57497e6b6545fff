import bz2
import gzip
import lzma
import shutil
import subprocess

import pytest

from xdomain_tf.datasets.deb822 import (
    APT_HELPER,
    description_text,
    iter_paragraphs,
    open_index_lines,
)
from xdomain_tf.errors import DataError

SAMPLE = "Package: a\nDescription-en: first\n second\n .\n  verbatim\n\n\nPackage: b\nTag: x::y,\n z::w\n"


def test_iter_paragraphs_keeps_continuations_and_line_numbers():
    paragraphs = list(iter_paragraphs(SAMPLE.splitlines()))
    assert paragraphs == [
        (1, {"Package": "a", "Description-en": "first\n second\n .\n  verbatim"}),
        (8, {"Package": "b", "Tag": "x::y,\n z::w"}),
    ]


def test_non_breaking_space_line_is_a_continuation_not_a_paragraph_break():
    lines = ["Package: a", "Description-fr: s", " one", " \u00a0", " two", "", "Package: b"]
    paragraphs = list(iter_paragraphs(lines))
    assert len(paragraphs) == 2
    assert description_text(paragraphs[0][1]["Description-fr"]) == ("s", "s\none\ntwo")


def test_iter_paragraphs_reports_bad_lines():
    with pytest.raises(DataError) as info:
        list(iter_paragraphs(["Package: a", "no colon here"], path="P"))
    assert (info.value.path, info.value.line, info.value.value) == ("P", 2, "no colon here")
    with pytest.raises(DataError) as info:
        list(iter_paragraphs([" continuation first"], path="P"))
    assert info.value.line == 1


def test_description_text_joins_paragraphs_and_keeps_verbatim_lines():
    value = "Summary here\n Body line one\n continues.\n .\n Second para.\n  * item one\n  * item  two\n After."
    summary, text = description_text(value)
    assert summary == "Summary here"
    assert text == "Summary here\nBody line one continues.\nSecond para.\n* item one\n* item two\nAfter."
    assert description_text("Only a summary ") == ("Only a summary", "Only a summary")


@pytest.mark.parametrize("suffix", ["", ".gz", ".xz", ".bz2"])
def test_open_index_lines_reads_plain_and_compressed(tmp_path, suffix):
    openers = {"": open, ".gz": gzip.open, ".xz": lzma.open, ".bz2": bz2.open}
    path = tmp_path / f"Translation-de{suffix}"
    with openers[suffix](path, "wt", encoding="utf-8") as handle:
        handle.write("Package: a\nDescription-de: Straße\n")
    assert list(open_index_lines(path)) == ["Package: a", "Description-de: Straße"]


@pytest.mark.skipif(
    not (shutil.which("lz4") and shutil.which(APT_HELPER)), reason="needs lz4 and apt-helper"
)
def test_open_index_lines_reads_lz4_through_apt_helper(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("Package: a\nDescription-de: Maß\n", encoding="utf-8")
    packed = tmp_path / "x_i18n_Translation-de.lz4"
    subprocess.run(["lz4", "-q", str(plain), str(packed)], check=True)
    assert list(open_index_lines(packed)) == ["Package: a", "Description-de: Maß"]
