"""The resume state: one JSON file per upload in progress, keyed by file and server."""

from __future__ import annotations

import os
from dataclasses import replace

from s3upload.client.state import Entry, FileIdentity, StateStore


def entry_for(path, server="http://a", upload_id="u1") -> Entry:
    ident = FileIdentity.of(path)
    return Entry(ident.path, ident.size, ident.mtime_ns, server, upload_id, "k", 5, 3)


def test_saved_entries_are_found_again(tmp_path):
    src = tmp_path / "f.bin"
    src.write_bytes(b"x" * 100)
    store = StateStore(tmp_path / "state")
    entry = entry_for(src)
    store.save(entry)
    assert store.load(FileIdentity.of(src), "http://a") == entry
    assert store.load(FileIdentity.of(src), "http://b") is None  # another service
    store.remove(FileIdentity.of(src), "http://a")
    assert store.load(FileIdentity.of(src), "http://a") is None
    store.remove(FileIdentity.of(src), "http://a")  # twice is fine
    assert list((tmp_path / "state").iterdir()) == []


def test_a_changed_file_is_another_file(tmp_path):
    src = tmp_path / "f.bin"
    src.write_bytes(b"x" * 100)
    store = StateStore(tmp_path / "state")
    store.save(entry_for(src))
    st = src.stat()
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert store.load(FileIdentity.of(src), "http://a") is None
    src.write_bytes(b"x" * 101)
    assert store.load(FileIdentity.of(src), "http://a") is None


def test_relative_and_absolute_paths_are_the_same_file(tmp_path, monkeypatch):
    src = tmp_path / "f.bin"
    src.write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    assert FileIdentity.of(src) == FileIdentity.of(type(src)("f.bin"))


def test_unreadable_state_means_start_over(tmp_path):
    src = tmp_path / "f.bin"
    src.write_bytes(b"x")
    store = StateStore(tmp_path / "state")
    entry = entry_for(src)
    store.save(entry)
    [file] = list((tmp_path / "state").iterdir())
    file.write_text("{half")
    assert store.load(FileIdentity.of(src), "http://a") is None
    file.write_text('{"unknown": 1}')
    assert store.load(FileIdentity.of(src), "http://a") is None
    store.save(replace(entry, upload_id="u2"))  # overwritten in place, no temp files left
    assert store.load(FileIdentity.of(src), "http://a").upload_id == "u2"
    assert [p.name for p in (tmp_path / "state").iterdir()] == [file.name]
