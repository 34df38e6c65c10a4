"""MkDocs hook (mkdocs.yml `hooks:`): every ```python block of a page runs when the site is
built, in order, in one session per page, as tests/test_docs.py runs them. markdown-exec runs a
block whose fence says ``exec="on"``; this adds that, with the source shown above what the block
prints (as text, when it prints anything), to each ``python`` fence that does not say already how
it runs. A block shown but not run is fenced ``py``."""

from __future__ import annotations

import re

PYTHON_BLOCK = re.compile(r"^```python(?P<attrs>[^\n]*)\n(?P<body>.*?)^```", re.M | re.S)


def on_page_markdown(markdown: str, page, **kwargs) -> str:
    session = page.file.src_uri

    def executed(match: re.Match) -> str:
        attrs, body = match.group("attrs"), match.group("body")
        if "exec=" not in attrs:
            attrs += ' exec="on" source="above"'
            if "print(" in body:  # an empty output would be an empty box
                attrs += ' result="text"'
        if "session=" not in attrs:
            attrs += f' session="{session}"'
        return f"```python{attrs}\n{body}```"

    return PYTHON_BLOCK.sub(executed, markdown)
