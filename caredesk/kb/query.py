"""Search text as people type it, read the way PostgreSQL's websearch_to_tsquery reads it.

Words are ANDed, ``"quoted words"`` are a phrase, ``-word`` excludes, ``or``
between words offers alternatives. Anything else (stray quotes, brackets,
``*``, ``:``, NUL bytes, operators of FTS5 or tsquery) is only a separator,
so no text can make a query that the database rejects. Pure: no Django.
"""

import re
from dataclasses import dataclass

MAX_LENGTH = 200  # characters of query text considered; the rest is ignored
MAX_TERMS = 16  # words and phrases; more only slow the search down

# Words too common to suggest anything by themselves (PostgreSQL drops its own
# list; SQLite's FTS5 has none). Only used when any word may match.
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "after",
        "again",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "before",
        "being",
        "but",
        "by",
        "can",
        "cannot",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "don",
        "for",
        "from",
        "get",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "me",
        "more",
        "my",
        "no",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "our",
        "own",
        "please",
        "same",
        "she",
        "should",
        "so",
        "some",
        "still",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "until",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
    ]
)
_WORD = re.compile(r"[^\W_]+")
_PIECE = re.compile(r'(-?)"([^"]*)"?|(\S+)')


@dataclass(frozen=True)
class Term:
    """One word or phrase; ``prefix`` matches words starting with its last word."""

    words: tuple[str, ...]
    negated: bool = False
    prefix: bool = False


# A query: alternatives (OR) of groups whose terms must all hold (AND).
Query = list[list[Term]]


def clean(text: str) -> str:
    """The text without control characters, cut to :data:`MAX_LENGTH`."""
    text = "".join(ch if ch.isprintable() else " " for ch in text[: MAX_LENGTH * 2])
    return text[:MAX_LENGTH].strip()


def words(text: str) -> list[str]:
    """The words of ``text`` as the full-text tokenisers see them (lower-cased)."""
    return [w.lower() for w in _WORD.findall(clean(text))][:MAX_TERMS]


def parse(text: str) -> Query:
    """Read websearch-style text into OR-groups of AND-ed terms (empty: nothing to find)."""
    groups: Query = [[]]
    count = 0
    for match in _PIECE.finditer(clean(text)):
        negated, phrase, bare = match.group(1) == "-", match.group(2), match.group(3)
        if bare is not None:
            if bare.lower() == "or":
                if groups[-1]:
                    groups.append([])
                continue
            negated = bare.startswith("-")
            phrase = bare
        found = tuple(w.lower() for w in _WORD.findall(phrase or ""))
        if not found or count >= MAX_TERMS:
            continue
        count += 1
        groups[-1].append(Term(found, negated=negated))
    # A group of exclusions alone would match nearly everything: drop it.
    return [_without_stop_words(g) for g in groups if any(not t.negated for t in g)]


def _without_stop_words(group: list[Term]) -> list[Term]:
    # "forgot my password" must not need "my": PostgreSQL drops such words
    # itself, FTS5 would require them. Phrases keep theirs; a group of stop
    # words only is searched as typed.
    kept = [t for t in group if t.negated or len(t.words) > 1 or t.words[0] not in STOP_WORDS]
    return kept if any(not t.negated for t in kept) else group


def any_of(text: str, *, prefix_last: bool = True) -> Query:
    """Each word of ``text`` as its own alternative: for suggestions while typing.

    A ticket subject ("my site is down again") rarely has all its words in one
    article; ranking sorts out the best. The last word may still be half typed.
    """
    typed = words(text)
    # The last word may be half typed ("the" of "theme"): it stays as a prefix.
    found = [w for w in typed[:-1] if w not in STOP_WORDS] + typed[-1:]
    return [[Term((w,), prefix=prefix_last and i == len(found) - 1)] for i, w in enumerate(found)]


def _fts5_term(term: Term) -> str:
    # Tokens are letters and digits only, so quoting them cannot break out.
    quoted = '"' + " ".join(term.words) + '"'
    return quoted + "*" if term.prefix else quoted


def to_fts5(query: Query) -> str:
    """An SQLite FTS5 MATCH expression for ``query`` ("" when there is nothing to find)."""
    alternatives = []
    for group in query:
        wanted = [_fts5_term(t) for t in group if not t.negated]
        unwanted = [_fts5_term(t) for t in group if t.negated]
        if not wanted:
            continue
        expression = "(" + " AND ".join(wanted) + ")"
        if unwanted:
            expression = f"({expression} NOT ({' OR '.join(unwanted)}))"
        alternatives.append(expression)
    return " OR ".join(alternatives)


def to_tsquery(query: Query) -> str:
    """A PostgreSQL ``to_tsquery`` expression for ``query`` (used for suggestions).

    Words only (letters and digits), joined with tsquery's own operators.
    """
    alternatives = []
    for group in query:
        parts = []
        for term in group:
            words_ = list(term.words)
            if term.prefix:
                words_[-1] += ":*"
            phrase = " <-> ".join(words_)
            parts.append(f"!({phrase})" if term.negated else f"({phrase})")
        if any(not t.negated for t in group):
            alternatives.append("(" + " & ".join(parts) + ")")
    return " | ".join(alternatives)
