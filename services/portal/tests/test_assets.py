"""Every script the portal serves is its own or a pinned third-party file, unmodified."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import portal
from portal.i18n import EN

STATIC = Path(portal.__file__).parent / "static"
TEMPLATES = Path(portal.__file__).parent / "templates"
PINNED = {
    STATIC / "vendor" / "htmx-2.0.11.min.js": (
        "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
    ),
    Path(__file__).parent / "vendor" / "axe-core-4.11.0.min.js": (
        "e9e5863c33a874f09bc01acd9234b7e3c871479f5eef8802fa582544465e6d01"
    ),
}


def test_vendored_files_are_the_pinned_packages_files():
    for path, digest in PINNED.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, path


def test_templates_load_nothing_from_elsewhere_and_hold_no_inline_script_or_style():
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"""(src|href)=["']https?://""", text), template
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert "<style" not in text and " style=" not in text, template


def test_every_text_of_the_templates_has_its_english():
    same_in_both = {"E-mail", "JP"}
    texts: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        source = template.read_text()
        texts |= set(re.findall(r"""_\(\s*["']([^"']+)["']\s*\)""", source))
        texts |= set(re.findall(r"""field\("[^"]+", "([^"]+)\"""", source))
    assert len(texts) > 100
    assert sorted(texts - set(EN) - same_in_both) == []


def test_page_titles_are_plain_text():
    for template in TEMPLATES.glob("*.html"):
        for title in re.findall(
            r"{% block title %}(.*?){% endblock %}", template.read_text(), re.S
        ):
            assert "<" not in title, template
