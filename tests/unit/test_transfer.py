"""Reading MEE6 and CSV files into rows, with the line of the first bad row (no database)."""

from __future__ import annotations

import csv

import pytest

from xpsync.transfer import ImportFileError, Row, read_csv, read_mee6
from xpsync.transfer.rows import formula_safe, unescaped


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
    (read_csv, "telegram,1,5,0,name,csv,extra\n",
     "line 1: expected platform,external_id,xp[,coins][,display_name][,source], got 7 fields"),
    (read_csv, "telegram,1,5\ntelegram,1,7\n", "line 2: telegram:1 is listed already on line 1; which total is meant?"),
    (read_csv, "telegram,1,5,0,,a\n\ntelegram,1,7,0,,a\n",
     "line 3: telegram:1 is listed already on line 1 for a; which total is meant?"),
    (read_csv, "telegram,1,-5,0,,mee6:1\n", "line 1: xp -5 is negative"),
    (read_csv, "telegram,1,1000000001\n", "line 1: xp 1000000001 is beyond 1000000000"),
    (read_mee6, '{"players": [{"id": "1", "xp": 99999999999999999999}]}', "line 1: xp 99999999999999999999 is beyond"),
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


def test_one_account_may_have_a_row_per_source_and_an_xpsync_export_may_be_negative(tmp_path):
    file = tmp_path / "export.csv"
    file.write_text("platform,external_id,xp,coins,display_name,source\n"
                    "discord,1,500,0,Ann,mee6:42\n"
                    "discord,1,-20,-30,Ann,xpsync:abc\n", encoding="utf-8")
    assert read_csv(file) == [Row(2, "discord", "1", 500, 0, "Ann", "mee6:42"),
                              Row(3, "discord", "1", -20, -30, "Ann", "xpsync:abc")]


@pytest.mark.parametrize("cell", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'=x", "''+x", "'plain", "plain",
                                  "=HYPERLINK(\"http://x\")", ""])
def test_formula_safe_cells_read_back_as_they_were(tmp_path, cell):
    safe = formula_safe(cell)
    assert safe[:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert unescaped(safe) == cell
    file = tmp_path / "x.csv"
    with file.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerow(["telegram", formula_safe("-100" + cell.strip()), 5, 0, safe])
    (row,) = read_csv(file)
    assert (row.external_id, row.display_name) == ("-100" + cell.strip(), cell.strip() or None)


def test_mee6_as_its_api_serves_it_pages_one_after_another_and_a_player_met_twice(tmp_path):
    page = ('{{"admin": false, "guild": {{"id": "42", "name": "G"}}, "page": {n}, "player": null, '
            '"players": [{players}], "role_rewards": [], "xp_per_message": [15, 25], "xp_rate": 1.0}}')
    player = ('{{"avatar": "a", "detailed_xp": [5, 100, {xp}], "discriminator": "0", "guild_id": "42", '
              '"id": "{id}", "level": 3, "message_count": 40, "monetize_xp_boost": 0, "username": "{name}", '
              '"xp": {xp}}}')
    file = tmp_path / "mee6.json"
    file.write_text(page.format(n=0, players=player.format(id="111", xp=900, name="ann") + ",\n"
                                + player.format(id="222", xp=800, name="bob")) + "\n"
                    + page.format(n=1, players=player.format(id="222", xp=790, name="bob") + ",\n"
                                  + player.format(id="333", xp=10, name="cy")) + "\n", encoding="utf-8")
    rows = read_mee6(file, "42")
    assert [(r.external_id, r.xp, r.display_name) for r in rows] == [("111", 900, "ann"), ("222", 800, "bob"),
                                                                      ("333", 10, "cy")]
    with pytest.raises(ImportFileError, match="line 1: player 111 is of guild 42, not of 43"):
        read_mee6(file, "43")


def test_mee6_a_bare_list_of_players(tmp_path):
    file = tmp_path / "players.json"
    file.write_text('[{"id": "1", "xp": 5},\n {"id": "2", "xp": 7, "username": "b"}]', encoding="utf-8")
    assert read_mee6(file) == [Row(1, "discord", "1", 5, 0, None), Row(2, "discord", "2", 7, 0, "b")]
