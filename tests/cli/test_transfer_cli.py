import json


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def _language_records(multidomain_fixtures, split):
    """English fixture texts of the `news` domain plus an invented second 'language'
    (every word reversed) with the same labels."""
    records = []
    for line in (multidomain_fixtures / f"{split}.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["domain"] != "news":
            continue
        records.append({**record, "lang": "en"})
        reversed_text = " ".join(word[::-1] for word in record["text"].split())
        records.append({**record, "id": record["id"] + "-xx", "lang": "xx", "text": reversed_text})
    return records


def test_transfer_matrix_over_languages(tmp_path, cli, tiny_train_args, multidomain_fixtures):
    _write(tmp_path / "train.jsonl", _language_records(multidomain_fixtures, "train"))
    _write(tmp_path / "valid.jsonl", _language_records(multidomain_fixtures, "valid"))
    args = [a for a in tiny_train_args]
    args[args.index("--train") + 1] = str(tmp_path / "train.jsonl")
    args[args.index("--valid") + 1] = str(tmp_path / "valid.jsonl")
    result = cli("transfer", *args, "--group-by", "lang", "--epochs", "4", "--out", tmp_path / "transfer")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "transfer" / "transfer.json").read_text())
    assert report["train_domains"] == ["en", "xx"] and report["eval_domains"] == ["en", "xx"]
    matrix = report["matrix"]
    assert all(0.0 <= value <= 1.0 for row in matrix for value in row)
    # In-language training beats zero-shot transfer to a language whose words it never saw.
    assert matrix[0][0] > matrix[0][1] and matrix[1][1] > matrix[1][0]
    assert set(report["all_but_one"]) == {"en", "xx"}
    assert (tmp_path / "transfer" / "transfer.png").stat().st_size > 1000
