"""The figures on a home page ("12 orders awaiting review"): each capability registers what it can count
when its web package is imported (the shell sits below the capabilities and cannot ask them itself), and
the home page shows every figure the caller's permissions allow."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from sqlalchemy.orm import Session

from openem.auth.policy import Principal


@dataclasses.dataclass(frozen=True)
class Figure:
    count: int
    label: str  # plural noun phrase after the number: "orders awaiting review"
    href: str
    singular: str = ""  # when one: "order awaiting review"

    @property
    def text(self) -> str:
        return self.singular if self.count == 1 and self.singular else self.label


FigureSource = Callable[[Session, Principal], list[Figure]]
SOURCES: list[FigureSource] = []


def register(source: FigureSource) -> FigureSource:
    if source not in SOURCES:
        SOURCES.append(source)
    return source


def figures_for(session: Session, principal: Principal) -> list[Figure]:
    out: list[Figure] = []
    for source in SOURCES:
        out.extend(source(session, principal))
    return out
