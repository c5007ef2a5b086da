"""PHP's version_compare, as WordPress and the vulnerability feed order versions."""

import json
import shutil
import subprocess

import pytest

from caredesk.maintenance.versions import canonicalize, compare, in_range, version_compare

TABLE = [
    # (a, b, PHP's version_compare(a, b))
    ("1.2.3-beta1", "1.2.3", -1),
    ("1.2.3-beta1", "1.2.3-beta2", -1),
    ("1.2.3-alpha", "1.2.3-beta", -1),
    ("1.2.3-RC1", "1.2.3-beta9", 1),
    ("1.2", "1.2.0", -1),
    ("1.2.0", "1.2", 1),
    ("1.2.0", "1.2.0", 0),
    ("1.0rc1", "1.0", -1),
    ("1.0RC1", "1.0rc1", 0),
    ("1.0-dev", "1.0", -1),
    ("1.0-dev", "1.0-alpha", -1),
    ("1.0", "1.0pl1", -1),
    ("1.0.0.1", "1.0", 1),
    ("1.0.0.1", "1.0.0", 1),
    ("1.10", "1.9", 1),
    ("1.0-rc2", "1.0-RC10", -1),
    ("6.4.3", "6.4.10", -1),
    ("2.0", "10.0", -1),
    ("1.0abc", "1.0dev", 1),  # "abc" starts like "a", so it ranks as alpha
    ("1.0_1", "1.0.1", 0),
    ("1.0+1", "1.0-1", 0),
    ("1.0 b", "1.0", -1),  # PHP keeps the space after a digit: "1.0. b"
    ("", "1.0", -1),
    ("", "", 0),
]


@pytest.mark.parametrize(("a", "b", "expected"), TABLE)
def test_compare_matches_php(a, b, expected):
    assert compare(a, b) == expected
    assert compare(b, a) == -expected


@pytest.mark.skipif(shutil.which("php") is None, reason="php is not installed")
def test_the_table_is_what_php_itself_says():
    pairs = [[a, b] for a, b, _ in TABLE]
    script = "foreach (json_decode($argv[1]) as $p) echo version_compare($p[0], $p[1]), ' ';"
    out = subprocess.run(
        ["php", "-r", script, json.dumps(pairs)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert [int(n) for n in out] == [expected for _, _, expected in TABLE]


@pytest.mark.parametrize(
    ("version", "canonical"),
    [("1.0rc1", "1.0.rc.1"), ("1.2.3-beta1", "1.2.3.beta.1"), ("1..2", "1.2"), ("1.0 b", "1.0. b")],
)
def test_canonicalize(version, canonical):
    assert canonicalize(version) == canonical


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("<", True),
        ("lt", True),
        ("<=", True),
        ("le", True),
        (">", False),
        ("gt", False),
        (">=", False),
        ("ge", False),
        ("==", False),
        ("eq", False),
        ("!=", True),
        ("<>", True),
        ("ne", True),
    ],
)
def test_version_compare_operators(operator, expected):
    assert version_compare("1.0", "1.1", operator) is expected


def test_unknown_operator_is_refused():
    with pytest.raises(ValueError, match="operator"):
        version_compare("1", "2", "~=")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("version", "low", "low_inc", "high", "high_inc", "inside"),
    [
        ("1.0.0", "*", True, "1.2.3", True, True),
        ("1.2.3", "*", True, "1.2.3", True, True),
        ("1.2.3", "*", True, "1.2.3", False, False),
        ("1.2.4", "*", True, "1.2.3", True, False),
        ("1.2.3-beta1", "*", True, "1.2.3", False, True),
        ("2.0", "2.0", False, "*", True, False),
        ("2.0.1", "2.0", False, "*", True, True),
        ("1.5", "1.0", True, "2.0", False, True),
        ("0.9", "1.0", True, "2.0", False, False),
    ],
)
def test_in_range(version, low, low_inc, high, high_inc, inside):
    assert (
        in_range(version, low=low, low_inclusive=low_inc, high=high, high_inclusive=high_inc)
        is inside
    )
