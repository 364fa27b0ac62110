"""The shared screens: a file's words, the memo of a screen asked by several checkers,
and the receiver-hint search (tenantlint.words, tenantlint.packs)."""
from __future__ import annotations

import re

import pytest

from tenantlint.packs import _hint
from tenantlint.words import remembered, word_counts, words_of


def test_words_hold_every_name_a_word_boundary_search_finds():
    source = "x = Team.objects.get(pk=1)  # TeamMember\nfrom app import get_team\nname = 'é_team'\n"
    for name in ("Team", "objects", "get_team", "pk", "TeamMember", "_team"):
        assert re.search(rf"\b{name}\b", source) is None or name in words_of(source)
    assert "Tea" not in words_of(source)  # whole identifiers only
    assert word_counts(source)["Team"] == 1 and word_counts(source)["get_team"] == 1


def test_a_remembered_screen_is_computed_once_per_owner_and_text():
    calls = []

    @remembered
    def screen(owner, source):
        calls.append((owner, source))
        return len(source)

    owner, text = object(), "select 1"
    assert screen(owner, text) == screen(owner, text) == 8
    assert len(calls) == 1
    other = "".join(["select ", "2"])  # equal text, another object: computed again
    assert screen(owner, other) == 8 and len(calls) == 2
    assert screen(object(), other) == 8 and len(calls) == 3


@pytest.mark.parametrize("source", [
    "self.engine.execute(q)", "db_engine .connect()", "ENGINE_RO.begin()", "x = engine\n.y",
    "engine = make()", "the engine is. here", "myengine_x  .  z", "engines", "# engine.\n", "éengine.x",
])
def test_the_hint_search_finds_what_the_word_boundary_form_finds(source):
    full = re.compile(r"\b\w*engine\w*\s*\.", re.I)
    assert bool(_hint("engine").search(source)) == bool(full.search(source))


@pytest.mark.parametrize("text", [
    b"Team = 1\nx = Team.objects\n", b"TeamMember Team_ 12Team aTeam Team", b"Team\xc3\xa9 \xc3\xa9Team Team1 _Team",
    b"(Team)", b"", b"1Team2 Team",
])
def test_token_offsets_are_where_the_word_regex_finds_the_word(text):
    from tenantlint.words import token_offsets

    expected = [m.start() for m in re.finditer(rb"[A-Za-z_][A-Za-z0-9_]*", text) if m.group() == b"Team"]
    assert token_offsets(text, b"Team") == expected
    assert token_offsets(text, b"not a word") == []
