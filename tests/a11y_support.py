"""What the accessibility tests share: axe-core in Debian's Chromium, one browser a module,
and the contrast ratio of WCAG 2.1 (its definition of relative luminance).

axe-core comes from npm, pinned, into .venv/npm (ignored by git):
``npm install --prefix .venv/npm axe-core@4.14.1``; CLEVERINVO_AXE names another copy.
"""

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.outside_tools import missing

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium")
AXE = Path(os.environ.get("CLEVERINVO_AXE") or ROOT / ".venv" / "npm" / "node_modules" / "axe-core" / "axe.min.js")
# WCAG 2.1 A and AA, the rules the issue holds the pages to
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
GRAVE = ("critical", "serious")

RUN_AXE = """async tags => {
  // the PDF preview's frame is the browser's own viewer, not a page of ours
  const found = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
                                         iframes: false});
  return found.violations.map(v => ({id: v.id, impact: v.impact,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " :: " + n.failureSummary.replace(/\\s+/g, " "))}));
}"""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One Chromium for the module's tests (a launch costs a second or two of a busy machine)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            browser.close()


def axe_source() -> str:
    if not AXE.is_file():
        missing("axe-core", f"npm install --prefix .venv/npm axe-core@4.14.1 ({AXE})")
    return AXE.read_text(encoding="utf-8")


def grave_violations(page: Any, source: str) -> list[str]:
    """axe-core's critical and serious WCAG 2.1 AA violations on the page as it stands,
    each as "rule (impact): where :: why"."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=source)
    found = page.evaluate(RUN_AXE, AXE_TAGS)
    return [f"{v['id']} ({v['impact']}): {' | '.join(v['nodes'])}" for v in found if v["impact"] in GRAVE]


# --- contrast (WCAG 2.1, "contrast ratio" and "relative luminance" in its definitions) ----------

_RGB = re.compile(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)")


def rgb(css: str) -> tuple[float, float, float, float]:
    """A computed colour (rgb()/rgba()) as red, green, blue (0-255) and alpha (0-1)."""
    found = _RGB.fullmatch(css.strip())
    assert found, css
    alpha = float(found.group(4)) if found.group(4) is not None else 1.0
    return float(found.group(1)), float(found.group(2)), float(found.group(3)), alpha


def luminance(color: tuple[float, float, float, float]) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = color
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(one: str, other: str) -> float:
    a, b = sorted((luminance(rgb(one)), luminance(rgb(other))), reverse=True)
    return (a + 0.05) / (b + 0.05)


# The background a focused control stands on: the first ancestor's opaque background colour
# (the page's own colour when none has one).
BACKDROP = """element => {
  for (let node = element.parentElement; node; node = node.parentElement) {
    const color = getComputedStyle(node).backgroundColor;
    if (color && color !== "transparent" && !/rgba\\(.*,\\s*0\\)$/.test(color)) return color;
  }
  return "rgb(255, 255, 255)";
}"""

# The colour an element's own words are drawn on: its own background, or its nearest
# ancestor's that has one.
TEXT_BACKDROP = BACKDROP.replace("node = element.parentElement", "node = element")

# What the keyboard's focus shows on the focused element: its outline and its own background.
FOCUS_RING = """() => {
  const element = document.activeElement, style = getComputedStyle(element);
  const path = [];  // the element's place in the document, which tells two links alike apart
  for (let node = element; node && node.parentElement; node = node.parentElement) {
    path.unshift(Array.prototype.indexOf.call(node.parentElement.children, node));
  }
  return {path: path.join("."), tag: element.tagName, id: element.id, cls: element.className,
          outlineStyle: style.outlineStyle,
          outlineColor: style.outlineColor, outlineWidth: parseFloat(style.outlineWidth),
          offset: parseFloat(style.outlineOffset), background: style.backgroundColor,
          visible: element.matches(":focus-visible")};
}"""
