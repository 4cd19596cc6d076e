"""Reading MEE6 and CSV files into rows, with the line of the first bad row (no database)."""

from __future__ import annotations

import pytest

from xpsync.transfer import ImportFileError, Row, read_csv, read_mee6


def test_csv_rows_with_header_blank_lines_and_optional_columns(tmp_path):
    file = tmp_path / "people.csv"
    file.write_text("platform,external_id,xp,coins,display_name\n"
                    "Discord, 555 ,3000,5,Ann\n"
                    "\n"
                    "telegram,777,10\n"
                    "website,w1,0,,\n", encoding="utf-8")
    assert read_csv(file) == [
        Row(2, "discord", "555", 3000, 5, "Ann"),
        Row(4, "telegram", "777", 10, 0, None),
        Row(5, "website", "w1", 0, 0, None),
    ]


def test_a_csv_without_header_starts_at_line_one(tmp_path):
    file = tmp_path / "people.csv"
    file.write_text("telegram,1,5\n", encoding="utf-8")
    assert read_csv(file) == [Row(1, "telegram", "1", 5, 0, None)]


def test_mee6_pages_become_discord_rows_with_their_lines(tmp_path):
    file = tmp_path / "mee6.json"
    file.write_text('[{"players": [\n  {"id": "1", "xp": 50, "username": "a"},\n  {"id": 2, "xp": "7"}\n]},\n'
                    ' {"players": []}]', encoding="utf-8")
    assert read_mee6(file) == [Row(2, "discord", "1", 50, 0, "a"), Row(3, "discord", "2", 7, 0, None)]


@pytest.mark.parametrize(("reader", "content", "message"), [
    (read_csv, "telegram,1,5\ntelegram,2,-3\n", "line 2: xp -3 is negative"),
    (read_csv, "telegram,1,5,true\n", "line 1: coins 'true' is not a whole number"),
    (read_csv, "mastodon,1,5\n", "line 1: unknown platform 'mastodon' (expected telegram, discord, website)"),
    (read_csv, "telegram,1,5,0,name,extra\n",
     "line 1: expected platform,external_id,xp[,coins][,display_name], got 6 fields"),
    (read_csv, "telegram," + "x" * 201 + ",5\n", "line 1: the account id"),
    (read_mee6, '{"players": [{"id": "1", "xp": 5},\n {"id": "2", "xp": 1.5}]}',
     "line 2: xp 1.5 is not a whole number"),
    (read_mee6, '{"players": [{"id": "1", "xp": true}]}', "line 1: xp True is not a whole number"),
    (read_mee6, '[{"players": []},\n 7]', "line 1: not a MEE6 leaderboard page"),
    (read_mee6, "\n\n{", "line 3: not valid JSON"),
])
def test_the_first_bad_row_is_named_by_its_line(tmp_path, reader, content, message):
    file = tmp_path / "bad"
    file.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFileError) as err:
        reader(file)
    assert str(err.value).startswith(f"{file} {message}")


def test_a_missing_or_binary_file_is_one_line(tmp_path):
    with pytest.raises(ImportFileError, match="no such file"):
        read_csv(tmp_path / "nope.csv")
    binary = tmp_path / "latin1.csv"
    binary.write_bytes(b"telegram,1,5,0,Jos\xe9\n")
    with pytest.raises(ImportFileError, match="not UTF-8 text"):
        read_csv(binary)
