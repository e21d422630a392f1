"""The web layer stays thin (issue 15): modules that define views translate requests and answers,
they do not open the database (queries live in each feature's queries.py, writes in its
services) and they never end a transaction (the request does, tellcity.core.transaction)."""

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tellcity"
#: How a module says it defines views: a blueprint's route decorators or add_url_rule.
DEFINES_VIEWS = re.compile(r"@bp\.(get|post|put|patch|delete|route)\(|\.add_url_rule\(")
#: What a view module must not do.
FORBIDDEN = {
    "reads or writes the database itself": re.compile(r"\bdb\.session\b|\bsa\.select\("),
    "ends the transaction": re.compile(r"\.commit\(\)|\.rollback\(\)"),
}
#: Only these may end a transaction: the boundary itself, the one action wrapper (its
#: savepoint), and the probes that must answer when the database is gone.
ENDS_TRANSACTIONS = {
    "core/transaction.py",
    "core/actions.py",
    "core/metrics.py",
    "core/readiness.py",
}


def view_modules() -> list[Path]:
    modules = [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.parent.name == "views" or DEFINES_VIEWS.search(path.read_text(encoding="utf-8"))
    ]
    assert len(modules) > 20, modules  # the scan finds the views it is meant to check
    return modules


@pytest.mark.parametrize("module", view_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_view_modules_neither_query_nor_commit(module):
    text = module.read_text(encoding="utf-8")
    if str(module.relative_to(PACKAGE)) in ENDS_TRANSACTIONS:
        text = text.replace("db.session.rollback()", "")  # a probe, when the database is gone
    found = [
        f"{what}: line {text.count(chr(10), 0, match.start()) + 1}"
        for what, pattern in FORBIDDEN.items()
        for match in pattern.finditer(text)
    ]
    assert not found, found


def test_only_the_transaction_boundary_commits():
    ends = FORBIDDEN["ends the transaction"]
    found = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts and ends.search(path.read_text(encoding="utf-8"))
    )
    assert set(found) <= ENDS_TRANSACTIONS, found
