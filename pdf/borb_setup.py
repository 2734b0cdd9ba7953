"""borb, made safe for a server: no usage statistics sent home, no licence reminder printed.

borb posts usage statistics to its vendor unless opted out, and independently of that
choice prints a licence reminder to stdout every 64 documents. A server must never make
an outbound connection nor write into its own output, so this module opts out and
silences the reminder, and every renderer imports borb through it. borb is pinned below
3.1 because the reminder has no public switch; tests fail loudly if that changes.
"""

import math
import sys
from typing import Any

from borb.pdf import UsageStatistics  # type: ignore[import-untyped]
from borb.pdf.font.composite_font.cid_type_0_font import CIDType0Font  # type: ignore[import-untyped]

_REMINDER = "_UsageStatistics__print_usage_warning"


def _quiet() -> None:
    UsageStatistics.opt_out()
    if not hasattr(UsageStatistics, _REMINDER):
        raise RuntimeError("borb's licence reminder moved; update pdf/borb_setup.py for this borb version")
    setattr(UsageStatistics, _REMINDER, staticmethod(lambda: None))


_quiet()


# borb measures text in a composite (CID) font by scanning the whole width array for every
# character, which made a one-page invoice cost ~100 ms. This is the same computation with
# the array indexed once per font; tests/pdf compare it with borb's own for every glyph.
def _indexed_widths(font: Any) -> dict[int, float]:
    table = font.__dict__.get("_cid_widths")
    if table is None:
        table = {}
        entries = list(font.get("W", []))
        i = 0
        while i < len(entries):
            first = entries[i]
            if i + 1 < len(entries) and isinstance(entries[i + 1], list):
                for offset, width in enumerate(entries[i + 1]):
                    table.setdefault(int(first) + offset, width)
                i += 2
            elif i + 2 < len(entries):
                for cid in range(int(first), int(entries[i + 1]) + 1):
                    table.setdefault(cid, entries[i + 2])
                i += 3
            else:
                break
        font.__dict__["_cid_widths"] = table
    widths: dict[int, float] = table
    return widths


def _get_width(
    self: Any, text: list[tuple[int, str]], character_spacing: float = 0, font_size: float = 12, word_spacing: float = 0
) -> int:
    if "W" not in self:
        return int(self.get("DW", 1000))
    table = _indexed_widths(self)
    default = float(self.get("DW", 1000))
    widths = [table.get(cid, default) / 1000 + character_spacing for cid, _ in text]
    widths[-1] -= character_spacing
    total = sum(w + word_spacing if glyph == "space" else w for w, (_, glyph) in zip(widths, text, strict=True))
    return math.ceil(total * font_size)


borb_get_width = CIDType0Font.get_width
CIDType0Font.get_width = _get_width


# borb 3.0.9 decorates layout methods (Chunk.get_size, Table.TableCell.get_size, ...) with
# functools.cache, which keys on `self`: every element ever laid out stays alive, so a
# process that renders grows without bound. The caches only help within one document.
def _layout_caches() -> list[Any]:
    found: dict[int, Any] = {}
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("borb.") or module is None:
            continue
        for owner in list(vars(module).values()):
            if not isinstance(owner, type) or not owner.__module__.startswith("borb."):
                continue
            for klass in (owner, *(v for v in vars(owner).values() if isinstance(v, type))):
                for member in vars(klass).values():
                    if callable(getattr(member, "cache_clear", None)):
                        found[id(member)] = member
    return list(found.values())


_caches: list[Any] = []


def layout_caches() -> list[Any]:
    """Every functools cache on a borb class (found once borb's layout modules are loaded)."""
    if not _caches:
        _caches.extend(_layout_caches())
    return _caches


def forget_layouts() -> None:
    """Drops what borb cached while laying out documents; call it after each render."""
    for cache in layout_caches():
        cache.cache_clear()
