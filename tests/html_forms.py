"""Read the POST forms of a rendered page: where each posts and which fields it has (for fuzzing and filling)."""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit


@dataclass
class Field:
    """One named control of a form."""

    name: str
    kind: str  # text, email, tel, password, hidden, textarea, select, checkbox, radio, file, number, date, ...
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    """A POST form: its action path and fields (csrf_token included)."""

    action: str
    fields: dict[str, Field] = field(default_factory=dict)

    def values(self) -> dict[str, str]:
        """What a browser would send untouched (hidden values, selected options)."""
        out = {}
        for f in self.fields.values():
            if f.kind in ("checkbox", "radio", "file", "submit", "button"):
                continue
            out[f.name] = f.options[0] if f.kind == "select" and f.options and not f.value else f.value
        return out


class _Parser(HTMLParser):
    def __init__(self, page_path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.value = a.get("value", "")
            return
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                action = urlsplit(urljoin(self.page_path, a.get("action") or self.page_path)).path
                self._form = Form(action=action)
                self.forms.append(self._form)
            return
        if self._form is None or not a.get("name"):
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            self._form.fields.setdefault(a["name"], Field(a["name"], kind, a.get("value", "")))
        elif tag == "textarea":
            self._form.fields[a["name"]] = Field(a["name"], "textarea")
        elif tag == "select":
            self._select = Field(a["name"], "select")
            self._form.fields[a["name"]] = self._select
        elif tag == "button" and a.get("value"):
            self._form.fields.setdefault(a["name"], Field(a["name"], "button", a["value"]))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)


def post_forms(html: str, page_path: str) -> list[Form]:
    """Every method=post form on the page."""
    parser = _Parser(page_path)
    parser.feed(html)
    return parser.forms
