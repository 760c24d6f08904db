"""The one Jinja2 environment every HTML page is made with: autoescaping on, so nothing a
student wrote can become markup, and undefined names an error rather than blank text."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def environment() -> Any:
    import jinja2  # comes with nbconvert; imported only when a page is written

    return jinja2.Environment(
        loader=jinja2.PackageLoader("autograder.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
