"""Where a document's rules apply, so that residents are never cited another city's regulation.

Chinese local regulations name their place at the start of the title: 《杭州市物业管理条例》,
《上海市住宅物业管理规定》, 《浙江省…》. National law does not (《物业管理条例》, 《中华人民共和国
民法典》, 《最高人民法院关于…的解释》), nor do a community's own papers (《阳光花园管理规约》);
only a title that goes on to name an instrument (条例, 规定, 办法, 细则, 决定, 意见, 解释) is
placed, so that 《阳光城市花园业主公约》 is not taken for a city's. A
Hangzhou community that loaded the Beijing and Qingdao regulations for reference must not
answer "业主大会的决定需要多少业主同意？" with 《青岛市物业管理条例》第二十八条: the resident would
take a rule that does not bind them for theirs.

With ``region`` set (``KNOWLEDGE_REGION``, e.g. ``浙江省杭州市``), the retriever leaves out the
passages of documents whose place is not part of it; national documents, unplaced ones and
every FAQ entry stay. Unset (the default), every document is used, as before.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

# A place at the start of a title: two to five characters before 省/市/自治区/特别行政区
# ("杭州市", "黑龙江省", "新疆维吾尔自治区"), so that "超市购物须知" is not one ("超" is too short).
_PLACE = re.compile(r"^\s*[《<]?\s*(?P<place>[\u4e00-\u9fff]{2,5}?(?:特别行政区|自治区|省|市))")
# Only a government's instruments are placed: 《杭州市物业管理条例》 yes, 《阳光城市花园业主公约》 no.
_INSTRUMENT = re.compile(r"(条例|规定|办法|细则|决定|意见|解释)")
# Words of a title that only refers to a place ("关于加强本市物业管理的通知"): not a place name.
_NOT_IN_PLACE = set("关于本该此各全我的")
# Titles that begin with the country's name are national law.
_NATIONAL = ("中华人民共和国", "中国", "全国", "国务院", "最高人民法院", "最高人民检察院")
_SUFFIXES = ("特别行政区", "自治区", "省", "市")


def place_of(title: str) -> Optional[str]:
    """The province or city a document's title names first ("杭州市"), or None (national / unplaced)."""
    name = Path(title).stem if title.endswith((".md", ".txt", ".docx", ".pdf")) else title
    stripped = name.strip().lstrip("《<").strip()
    if stripped.startswith(_NATIONAL):
        return None
    match = _PLACE.match(name)
    if not match or _NOT_IN_PLACE & set(match.group("place")) or not _INSTRUMENT.search(name[match.end():]):
        return None
    return match.group("place")


def _bare(place: str) -> str:
    for suffix in _SUFFIXES:
        if place.endswith(suffix) and len(place) > len(suffix) + 1:
            return place[: -len(suffix)]
    return place


def applies(place: Optional[str], region: str) -> bool:
    """Does a document of ``place`` bind a community in ``region``? (No region: everything applies.)

    ``region`` names the province and city, as an address does ("浙江省杭州市", "上海市");
    a place applies when it is part of that name, with or without its suffix.
    """
    region = (region or "").strip()
    if not region or not place:
        return True
    return place in region or _bare(place) in region
