"""Reading search text the websearch way, and turning it into safe FTS5 and tsquery."""

from hypothesis import given
from hypothesis import strategies as st

from caredesk.kb.query import MAX_LENGTH, MAX_TERMS, Term, any_of, clean, parse, to_fts5, to_tsquery


def test_words_are_anded():
    assert parse("reset Password") == [[Term(("reset",)), Term(("password",))]]
    assert to_fts5(parse("reset password")) == '("reset" AND "password")'


def test_quotes_make_a_phrase_and_an_unclosed_quote_runs_to_the_end():
    assert parse('"monthly report" pdf') == [[Term(("monthly", "report")), Term(("pdf",))]]
    assert parse('"monthly report') == [[Term(("monthly", "report"))]]


def test_minus_excludes():
    query = parse("report -uptime")
    assert query == [[Term(("report",)), Term(("uptime",), negated=True)]]
    assert to_fts5(query) == '(("report") NOT ("uptime"))'
    assert to_tsquery(query) == "((report) & !(uptime))"


def test_or_separates_alternatives():
    query = parse("password or restore")
    assert query == [[Term(("password",))], [Term(("restore",))]]
    assert to_fts5(query) == '("password") OR ("restore")'


def test_common_words_are_not_required_unless_that_is_all_there_is():
    assert parse("forgot my password") == [[Term(("forgot",)), Term(("password",))]]
    assert parse('"how to" restore') == [[Term(("how", "to")), Term(("restore",))]]
    assert parse("how to") == [[Term(("how",)), Term(("to",))]]


def test_only_exclusions_find_nothing():
    assert parse("-uptime") == []
    assert parse("or or") == []


def test_operators_and_punctuation_are_separators():
    # As in websearch_to_tsquery, words joined by punctuation stay together as a phrase.
    assert parse('NEAR(a b) title:x * ^y "') == [
        [Term(("near", "a")), Term(("b",)), Term(("title", "x")), Term(("y",))]
    ]


def test_nul_and_control_characters_are_dropped():
    assert clean("a\x00b\x1bc") == "a b c"


def test_long_text_is_cut():
    assert len(clean("x" * 10_000)) == MAX_LENGTH
    assert sum(len(g) for g in parse("word " * 100)) == MAX_TERMS


def test_any_of_drops_common_words_and_keeps_the_last_as_prefix():
    query = any_of("my website is down and the")
    assert query == [
        [Term(("website",))],
        [Term(("down",))],
        [Term(("the",), prefix=True)],
    ]
    assert to_fts5(query) == '("website") OR ("down") OR ("the"*)'
    assert to_tsquery(query) == "((website)) | ((down)) | ((the:*))"


@given(st.text(max_size=400))
def test_any_text_gives_expressions_of_words_and_operators_only(text):
    for query in (parse(text), any_of(text)):
        fts = to_fts5(query)
        ts = to_tsquery(query)
        for term in (t for group in query for t in group):
            assert all(w.isalnum() for w in term.words)
        assert "\x00" not in fts and "\x00" not in ts
