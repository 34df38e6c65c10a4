"""MkDocs hook (mkdocs.yml `hooks:`): every ```python block of a page runs when the site is
built, in order, in one session per page, as tests/test_docs.py runs them. markdown-exec runs a
block whose fence says ``exec="on"``; this adds that (source shown above its printed output) to
each ``python`` fence that does not say already how it runs. A block shown but not run is
fenced ``py``."""

from __future__ import annotations

import re

PYTHON_FENCE = re.compile(r"^```python(?P<attrs>[^\n]*)$", re.M)


def on_page_markdown(markdown: str, page, **kwargs) -> str:
    session = page.file.src_uri

    def executed(match: re.Match) -> str:
        attrs = match.group("attrs")
        if "exec=" not in attrs:
            attrs += ' exec="on" source="above" result="text"'
        if "session=" not in attrs:
            attrs += f' session="{session}"'
        return "```python" + attrs

    return PYTHON_FENCE.sub(executed, markdown)
