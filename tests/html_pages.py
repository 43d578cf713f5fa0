"""Read pages like a browser would: the forms on a page (with what is filled in) and the links, to click through."""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    """A form as the browser would submit it."""

    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[dict] = field(default_factory=list)

    def data(self, button: dict | None = None, **overrides) -> dict:
        """The values a browser sends when this button is pressed, with overrides."""
        values: dict[str, str] = {}
        for name, value in self.fields:
            values.setdefault(name, value)
        if button and button.get("name"):
            values[button["name"]] = button.get("value", "")
        values.update(overrides)
        return values

    def button(self, text: str | None = None, **attrs) -> dict:
        """The first button whose text contains `text` and whose attributes match."""
        for b in self.buttons:
            if (text is None or text in b["text"]) and all(b.get(k) == v for k, v in attrs.items()):
                return b
        raise AssertionError(f"no button {text!r} {attrs} in {[b['text'] for b in self.buttons]}")


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[dict] = []
        self._form: Form | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._option: list | None = None
        self._button: dict | None = None
        self._link: dict | None = None
        self._stack: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "li" or tag == "article":
            self._stack.append(a)
        if tag == "form":
            self._form = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.forms.append(self._form)
        elif tag == "a":
            self._link = {**a, "text": "", "context": [dict(s) for s in self._stack]}
            self.links.append(self._link)
        elif self._form is None:
            return
        elif tag == "input" and "name" in a:
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self._form.fields.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button", "file"):
                self._form.fields.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._textarea = (a.get("name", ""), [])
        elif tag == "select":
            self._select = (a.get("name", ""), [])
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value", ""), "selected" in a]
        elif tag == "button":
            self._button = {**a, "text": ""}
            if a.get("type", "submit") == "submit":
                self._form.buttons.append(self._button)

    def handle_endtag(self, tag):
        if tag in ("li", "article") and self._stack:
            self._stack.pop()
        if tag == "form":
            self._form = None
        elif tag == "a":
            self._link = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea[0], _drop_first_newline("".join(self._textarea[1]))))
            self._textarea = None
        elif tag == "option" and self._option is not None and self._select is not None:
            self._select[1].append((self._option[0], self._option[1]))
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options = self._select
            chosen = next((v for v, sel in options if sel), options[0][0] if options else "")
            self._form.fields.append((name, chosen))
            self._select = None
        elif tag == "button":
            self._button = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)
        if self._button is not None:
            self._button["text"] += data.strip()
        if self._link is not None:
            self._link["text"] += data.strip()


def _drop_first_newline(text: str) -> str:
    """Browsers ignore one line break right after <textarea>."""
    for start in ("\r\n", "\n"):
        if text.startswith(start):
            return text[len(start):]
    return text


def parse(html: str) -> _Parser:
    """Parse a page."""
    parser = _Parser()
    parser.feed(html)
    return parser


def form_with_action(html: str, action: str) -> Form:
    """The form on the page that posts to `action` (its path, ignoring a query string)."""
    for form in parse(html).forms:
        if form.action.split("?")[0] == action:
            return form
    raise AssertionError(f"no form posting to {action}")


def links(html: str) -> list[dict]:
    """Every link on the page with its text and the li/article elements around it."""
    return parse(html).links
