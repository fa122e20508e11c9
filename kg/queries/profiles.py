"""Does a patient satisfy a CIViC molecular profile?

A single-variant or category profile is satisfied by one matched variant. A complex profile
(``BRAF V600E AND NOT BRAF Amplification``) is satisfied only when its boolean expression over
the patient's matched variant ids is true; CIViC writes the expression with AND, OR, NOT and
parentheses, which the CIViC loader renders with Variant ids as ``variantExpression``. A complex
profile whose expression could not be resolved is never treated as satisfied.
"""

from __future__ import annotations

import re
from collections.abc import Collection

_TOKEN = re.compile(r"\(|\)|\bAND\b|\bOR\b|\bNOT\b|[^\s()]+")


class _Parser:
    def __init__(self, text: str, observed: Collection[str]) -> None:
        self.tokens = _TOKEN.findall(text)
        self.pos = 0
        self.observed = observed

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expr(self) -> bool:
        value = self.term()
        while self.peek() == "OR":
            self.take()
            value = self.term() or value
        return value

    def term(self) -> bool:
        value = self.factor()
        while self.peek() == "AND":
            self.take()
            value = self.factor() and value
        return value

    def factor(self) -> bool:
        token = self.take()
        if token == "NOT":
            return not self.factor()
        if token == "(":
            value = self.expr()
            if self.take() != ")":
                raise ValueError("unbalanced parentheses")
            return value
        return token in self.observed


def satisfies(kind: str | None, expression: str | None, observed: Collection[str], members: Collection[str]) -> bool:
    """True when the patient's matched variant ids ``observed`` satisfy the profile."""
    if kind != "complex":
        return any(m in observed for m in members)
    if not expression:
        return False
    try:
        parser = _Parser(expression, observed)
        value = parser.expr()
        return value and parser.peek() is None
    except (IndexError, ValueError):
        return False
