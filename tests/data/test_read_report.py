from xdomain_tf.data.read_report import ReadReport
from xdomain_tf.errors import DataError


def test_counts_and_bounded_list():
    report = ReadReport(max_kept=2)
    for domain in ["a", "a", "b"]:
        report.add_record({"text": "x", "domain": domain})
    for line in range(1, 5):
        report.add_skip(DataError("is empty", path="f.csv", line=line, field="text"))
    assert (report.records, report.skipped) == (3, 4)
    assert report.to_dict()["domains"] == {"a": 2, "b": 1}
    assert [entry["line"] for entry in report.skipped_records] == [1, 2]
    assert report.summary(max_shown=1) == (
        'read 3 records, skipped 4 bad records: f.csv:1: field "text": is empty; ... (3 more)')
