"""Read what a browser would from HomeFirst's HTML: forms to fill in, and the htmx attributes
of the elements that poll.

The load clients send what a person's browser sends: the form as the page rendered it, with
one field changed, so a save carries the version and every other value the page showed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    """One form: where it posts, the values it would submit, and the choices it offers."""

    attrs: dict[str, str]
    values: dict[str, str | list[str]] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)

    @property
    def action(self) -> str:
        return self.attrs.get("hx-post") or self.attrs.get("action") or ""

    def pairs(self) -> list[tuple[str, str]]:
        """The fields as an urlencoded body lists them (a ticked box once per value)."""
        out: list[tuple[str, str]] = []
        for name, value in self.values.items():
            for one in value if isinstance(value, list) else [value]:
                out.append((name, one))
        return out


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.elements: dict[str, dict[str, str]] = {}
        self._form: Form | None = None
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None
        self._first_option: str | None = None
        self._option: dict[str, str] | None = None
        self._option_text: list[str] = []

    def handle_starttag(self, tag: str, attr_list: list) -> None:
        attrs = {k: (v if v is not None else "") for k, v in attr_list}
        if "id" in attrs:
            self.elements.setdefault(attrs["id"], attrs)
        if tag == "form":
            self._form = Form(attrs=attrs)
            self.forms.append(self._form)
            return
        form = self._form
        if form is None or "name" not in attrs or "disabled" in attrs:
            if tag == "option" and self._select is not None:
                self._option_start(attrs)
            return
        name = attrs["name"]
        if tag == "input":
            kind = attrs.get("type", "text").lower()
            if kind in {"submit", "button", "reset", "image", "file"}:
                return
            if kind in {"checkbox", "radio"}:
                form.choices.setdefault(name, []).append(attrs.get("value", "on"))
                if "checked" in attrs:
                    if kind == "checkbox":
                        current = form.values.setdefault(name, [])
                        assert isinstance(current, list)
                        current.append(attrs.get("value", "on"))
                    else:
                        form.values[name] = attrs.get("value", "on")
                elif kind == "checkbox":
                    form.values.setdefault(name, [])
                return
            form.values[name] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea, self._text = name, []
        elif tag == "select":
            self._select, self._first_option = name, None
            form.choices[name] = []

    def _option_start(self, attrs: dict[str, str]) -> None:
        self._option, self._option_text = attrs, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)
        if self._option is not None:
            self._option_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None and self._form is not None:
            text = "".join(self._text)
            # A newline straight after <textarea> is not part of the value (HTML spec).
            self._form.values[self._textarea] = text[1:] if text.startswith("\n") else text
            self._textarea = None
        elif tag == "option" and self._option is not None:
            self._option_end()
        elif tag == "select" and self._select is not None and self._form is not None:
            if self._option is not None:
                self._option_end()
            if self._select not in self._form.values and self._first_option is not None:
                self._form.values[self._select] = self._first_option
            self._select = None
        elif tag == "form":
            self._form = None

    def _option_end(self) -> None:
        attrs, self._option = self._option, None
        assert attrs is not None and self._form is not None and self._select is not None
        value = attrs.get("value", "".join(self._option_text).strip())
        self._form.choices[self._select].append(value)
        if self._first_option is None:
            self._first_option = value
        if "selected" in attrs:
            self._form.values[self._select] = value


def parse(html: str) -> _Parser:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser


def forms(html: str) -> list[Form]:
    """Every form in the page or fragment, in document order."""
    return parse(html).forms


def form_posting_to(html: str, path: str) -> Form | None:
    """The form that posts to ``path`` (a row also holds other forms, such as Start plan)."""
    return next((f for f in forms(html) if f.action == path), None)


def element(html: str, element_id: str) -> dict[str, str] | None:
    """The attributes of the element with this id (entities decoded), or None."""
    return parse(html).elements.get(element_id)


def hx_headers(attrs: dict[str, str] | None) -> dict[str, str]:
    """An element's ``hx-headers``, as htmx would send them."""
    if not attrs or not attrs.get("hx-headers"):
        return {}
    return {k: str(v) for k, v in json.loads(attrs["hx-headers"]).items()}
