"""Helpers of the client commands: sizes, metadata options, the progress bar off a terminal."""

from __future__ import annotations

import pytest

from s3upload.client.console import human_size, parse_meta, progress_bar


def test_sizes_read_like_people_write_them():
    assert human_size(0) == "0 B"
    assert human_size(1023) == "1023 B"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(1024**3 * 2) == "2.0 GiB"
    assert human_size(1024**5 * 3) == "3072.0 TiB"


def test_meta_options_are_key_value_pairs():
    assert parse_meta(("title=Keynote", "note=a=b")) == {"title": "Keynote", "note": "a=b"}
    with pytest.raises(SystemExit) as caught:
        parse_meta(("novalue",))
    assert caught.value.code == 2


@pytest.mark.parametrize("enabled", [True, False])
def test_progress_callbacks_accept_updates(enabled, capsys):
    with progress_bar(enabled) as track:
        update = track("file.bin", 100)
        for done in (0, 50, 100):
            update(done, 100)
    assert capsys.readouterr().out == ""  # the bar never writes to stdout
