"""A zip-bomb part whose name (from the file) holds line breaks and a thousand characters:
the refusal stays one short line (the atheris fuzzer found a 30-line message)."""

import zipfile

import pytest

from adoption.errors import InputError
from adoption.readers.sheets import read_xlsx


def test_bomb_part_with_a_crafted_name_gives_a_short_message(tmp_path):
    path = tmp_path / "bomb.xlsx"
    name = "xl/" + "\tno comment\r\nR021\t1\t3" * 60
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, b"\0" * (8 << 20))
    with pytest.raises(InputError) as err:
        read_xlsx(path)
    msg = str(err.value)
    assert "zip bomb" in msg and len(msg.splitlines()) == 1 and len(msg) < 400
