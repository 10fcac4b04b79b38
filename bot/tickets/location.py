"""Where a reported problem is: a flat, or a public place of the community.

Residents name places in many ways ("5栋1203", "三号楼二单元五零二", "B5-1203",
"Block 5 #12-03", "3号楼1单元楼道", "the lift in block 5", "car park level B2",
"东门"). The flat pieces (building, entrance, floor, room) come from
``bot.nlu.patterns`` so that the NLU, the unit slot and this module read the
same text the same way; this module adds public places and decides what is
still missing before staff can find the place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, NamedTuple, Optional, Tuple

from bot.nlu.patterns import AddressToken, address_tokens, group_address_tokens, mask_non_addresses


class _Place(NamedTuple):
    zh: str  # canonical Chinese name, stored on the ticket
    en: str  # English name, lower case
    needs_building: bool  # a building-scoped place cannot be found without its building
    kind: str = "place"  # "garage": floors are levels ("B2"), zones are parking zones


# (place, Chinese synonyms, English synonyms). Longer synonyms win over shorter
# ones inside the same text ("车库入口" over "车库"), whatever the table order.
_PLACES: Tuple[Tuple[_Place, str, str], ...] = (
    # Building-scoped places.
    (_Place("电梯", "lift", True), r"电梯(?:间|厅|口|轿厢)?|轿厢",
     r"\b(?:lifts?|elevators?)\b(?!\s+(?:up|it|the|a|this|that|my|me|off)\b)"),
    (_Place("楼梯间", "staircase", True), r"楼梯(?:间|口|扶手)?|步梯", r"\b(?:stair(?:case|way)s?|stairs)\b"),
    (_Place("楼道", "stairwell", True), r"楼道(?:口)?|走廊|过道|走道",
     r"\b(?:stairwells?|hallways?|corridors?|common corridor)\b"),
    (_Place("大堂", "lobby", True), r"大堂|门厅|大厅", r"\b(?:lobby|foyer|entrance hall)\b"),
    (_Place("天台", "rooftop", True), r"天台|屋顶|楼顶|屋面", r"\b(?:roof ?tops?|roof terrace|roof)\b"),
    (_Place("单元门", "entrance door", True), r"单元门(?:口|禁)?|楼门|单元入口|楼栋门|单元楼门",
     r"\b(?:building|block|unit) (?:entrance|front door|door)\b|\bentrance door\b"),
    (_Place("地下室", "basement", True), r"地下室", r"\bbasement\b(?!\s*(?:level\s*)?\d)"),
    (_Place("信报箱", "mailboxes", True), r"信报箱|信箱|报箱|邮箱(?!地址|号)", r"\b(?:mail|letter) ?box(?:es)?\b"),
    (_Place("外墙", "exterior wall", True), r"外墙|外立面", r"\b(?:exterior|outer|outside) wall\b|\bfa[cç]ade\b"),
    (_Place("架空层", "void deck", True), r"架空层", r"\bvoid deck\b"),
    (_Place("管道井", "utility shaft", True), r"管道井|管井|强电井|弱电井|电井|水井",
     r"\b(?:utility|pipe|service) shaft\b"),
    (_Place("表箱", "meter box", True), r"电表箱|电表间|水表箱|水表间|表箱|表井", r"\bmeter (?:box|room|cabinet)(?:es|s)?\b"),
    # Community-wide places.
    (_Place("车库入口", "garage entrance", False, "garage"), r"(?:地下)?车库(?:出)?入口|地库入口|车库门口|车库坡道|地库坡道",
     r"\b(?:garage|car ?park) (?:entrance|ramp)\b"),
    (_Place("地下车库", "underground garage", False, "garage"), r"地下(?:车库|停车场|停车库)|地库|车库",
     r"\b(?:underground|basement) (?:garage|car ?park|parking)\b|\bcar ?parks?\b|\bparking garage\b|\bgarage\b"),
    (_Place("停车场", "parking lot", False, "garage"), r"(?:地面|露天)?停车场|停车位|车位",
     r"\bparking (?:lot|spaces?|area|bays?)\b|\bparking\b"),
    (_Place("小区大门", "main gate", False), r"小区(?:大|正)?门|大门|正门|主门|前门|主入口|小区入口",
     r"\b(?:main|front|community|estate|compound) (?:gate|entrance)\b|\bthe gate\b"),
    (_Place("后门", "back gate", False), r"后门|后大门", r"\b(?:back|rear) (?:gate|entrance)\b"),
    (_Place("侧门", "side gate", False), r"侧门|边门", r"\bside (?:gate|entrance)\b"),
    (_Place("岗亭", "guard booth", False), r"岗亭|门岗|保安亭|保安室|门卫室?|值班室",
     r"\bguard ?(?:house|booth|post|room)\b|\bsecurity (?:booth|post|office|desk|room)\b"),
    (_Place("小区花园", "community garden", False), r"(?:小区|中心)?花园|园林", r"\bgardens?\b"),
    (_Place("绿化带", "green belt", False), r"绿化带|绿化|草坪|草地|绿地",
     r"\bgreen ?belts?\b|\blawns?\b|\bgreen (?:area|space)s?\b|\bgrass\b"),
    (_Place("儿童游乐场", "playground", False), r"(?:儿童)?游乐(?:场|区|设施)|儿童乐园|滑梯|秋千",
     r"\bplay ?grounds?\b|\b(?:kids'?|children'?s) (?:play )?area\b|\bplay area\b"),
    (_Place("健身区", "outdoor fitness area", False), r"健身(?:区|器材|广场|步道|设施)",
     r"\b(?:outdoor )?fitness (?:area|equipment)\b|\bexercise (?:equipment|machines)\b|\boutdoor gym\b"),
    (_Place("健身房", "gym", False), r"健身房|健身中心|健身室", r"\bgym\b|\bfitness (?:room|cent(?:er|re))\b"),
    (_Place("会所", "clubhouse", False), r"会所|会馆|活动中心|活动室", r"\bclub ?house\b|\bcommunity cent(?:er|re)\b|\bactivity room\b"),
    (_Place("物业中心", "property management office", False), r"物业(?:服务)?(?:中心|办公室|前台|大厅|处)|管理处|客服中心",
     r"\bproperty (?:management )?(?:office|cent(?:er|re))\b|\bmanagement office\b|\bestate office\b"),
    (_Place("垃圾房", "bin room", False), r"垃圾(?:房|站|屋|间|点|分类点|投放点|回收站|中转站)",
     r"\b(?:bin|garbage|trash|rubbish|refuse|recycling) (?:room|area|station|point|house|store)\b"),
    (_Place("自行车棚", "bike shed", False), r"(?:自行车|单车|电瓶车|电动车|非机动车)?车棚|自行车(?:库|停放处)",
     r"\b(?:bike|bicycle|cycle) (?:shed|rack|park(?:ing)?|storage)\b"),
    (_Place("充电桩", "charging station", False), r"充电桩|充电站|充电棚",
     r"\b(?:ev )?charg(?:ing|er) (?:station|point|pile)s?\b|\bev chargers?\b"),
    (_Place("游泳池", "swimming pool", False), r"游泳池|泳池", r"\bswimming pool\b|\bpool\b(?! of)"),
    (_Place("小区道路", "community road", False), r"小区(?:道路|马路|路面)|主干道|路面|路灯|人行道|道路",
     r"\bdriveway\b|\bwalkways?\b|\bfootpaths?\b|\bpavements?\b|\bsidewalks?\b|\bstreet ?lights?\b|\blamp ?posts?\b"),
    (_Place("广场", "plaza", False), r"(?:中心|小区)?广场", r"\bplaza\b|\bcourtyard\b"),
    (_Place("快递柜", "parcel lockers", False), r"快递柜|丰巢|快递驿站|菜鸟驿站", r"\b(?:parcel|delivery|package) lockers?\b"),
    (_Place("水泵房", "pump room", False), r"水?泵房", r"\bpump ?room\b"),
    (_Place("配电房", "power room", False), r"配电(?:房|室|间)|变电(?:站|所|箱)",
     r"\b(?:power|switch|electrical|transformer) room\b|\bsubstation\b"),
    (_Place("消防通道", "fire lane", False), r"消防(?:通道|车道)|安全(?:通道|出口)",
     r"\bfire (?:lane|exit|escape|access)\b|\bemergency exit\b"),
    (_Place("公共卫生间", "public toilet", False), r"公共(?:卫生间|厕所)|公厕", r"\bpublic (?:toilet|restroom|washroom)s?\b"),
    (_Place("景观水池", "water feature", False), r"景观(?:水池|池)|水景|喷泉|池塘|人工湖", r"\bfountains?\b|\bponds?\b"),
    (_Place("围墙", "perimeter wall", False), r"围墙|围栏", r"\bperimeter (?:wall|fence)\b|\bfence\b"),
)
_DIRECTIONS = (("东北", "north-east"), ("东南", "south-east"), ("西北", "north-west"), ("西南", "south-west"),
               ("东", "east"), ("南", "south"), ("西", "west"), ("北", "north"))
# Gates by direction ("东门", "东北门", "north-east gate", "south entrance").
_GATES = tuple(
    (_Place(f"{zh}门", f"{en} gate", False), rf"{zh}(?:大|侧)?门(?![卫铃锁框把])",
     rf"\b{en.replace('-', '[- ]?')} (?:gate|entrance)\b")
    for zh, en in _DIRECTIONS
)
_PLACE_PATTERNS = tuple(
    (place, re.compile(zh), re.compile(en, re.IGNORECASE)) for place, zh, en in _GATES + _PLACES
)
_BY_ZH: Dict[str, _Place] = {place.zh: place for place, _, _ in _GATES + _PLACES}
# Numbered gates: "2号门", "gate 2".
_NUMBERED_GATE = re.compile(
    r"(?<![0-9A-Za-z])(?P<n>\d{1,2})\s*号\s*(?:大)?门(?![卫铃锁框把])|(?i:\bgate\s*(?:no\.?\s*)?)(?P<m>\d{1,2})\b"
)
# "我家走廊", "my hallway": a room of the flat, not the public place of that name.
_PRIVATE_BEFORE = re.compile(
    r"(?:我家|我们家|家里|家中|屋里|房间里?|室内|户内|入户|进户|自家|我的)的?\s*\Z|(?i:\b(?:my|our|mine)\s+)\Z"
)
_ENTRANCE_BEFORE = re.compile(r"(?:\d|[一二三四五六七八九十])\s*\Z")
# A community-wide place keeps a building only when named right with it ("5号楼东门").
_TIGHT = re.compile(r"(?:\s|的)*\Z")


def _place_tokens(text: str) -> List[AddressToken]:
    tokens = []
    for place, zh, en in _PLACE_PATTERNS:
        for pattern in (zh, en):
            for m in pattern.finditer(text):
                start = m.start()
                if _PRIVATE_BEFORE.search(text[max(0, start - 6) : start]):
                    continue
                if text.startswith("单元", start) and _ENTRANCE_BEFORE.search(text[max(0, start - 4) : start]):
                    start += 2  # "2单元门": "2单元" is the entrance, "门" the place
                tokens.append(AddressToken("area", start, m.end(), place.zh, False, 4, place))
    for m in _NUMBERED_GATE.finditer(text):
        number = m.group("n") or m.group("m")
        place = _Place(f"{number}号门", f"gate {number}", False)
        tokens.append(AddressToken("area", m.start(), m.end(), place.zh, False, 4, place))
    return tokens


@dataclass(frozen=True)
class Location:
    """A place staff can go to: a flat, or a public place (with its building when it has one)."""

    kind: str  # "flat" or "public"
    building: Optional[str] = None  # "5", "B": digits or upper-case letters, as strings
    entrance: Optional[str] = None  # 单元 / entrance number
    room: Optional[str] = None  # "1203"
    area: Optional[str] = None  # public place, short Chinese canonical name: "电梯", "地下车库B区", "3层楼道"
    missing: Optional[str] = None  # None when staff can find it; else "building" or "room"

    def canonical(self) -> str:
        """Chinese display stored on the ticket: "5栋1单元1203", "3号楼1单元楼道", "东门"."""
        entrance = f"{self.entrance}单元" if self.entrance else ""
        if self.kind == "flat":
            building = f"{self.building}栋" if self.building else ""
            return f"{building}{entrance}{self.room or ''}"
        building = ""
        if self.building:
            building = f"{self.building}号楼" if self.building.isdigit() else f"{self.building}栋"
        area = self.area or ""
        if entrance and area.endswith("单元门"):  # "2单元" + "单元门" reads "2单元门"
            area = area[: -len("单元门")] + "门"
        return f"{building}{entrance}{area}"

    def english(self) -> str:
        """English display: "Building 5, Unit 1, Room 1203", "Building 5 lift", "East gate"."""
        parts = [f"Building {self.building}"] if self.building else []
        if self.entrance:
            parts.append(f"Unit {self.entrance}")
        if self.kind == "flat":
            if self.room:
                parts.append(f"Room {self.room}")
            return ", ".join(parts)
        place = _english_area(self.area or "")
        if parts:
            # "Building 5 lift", but "Building 6, 3rd floor stairwell"
            joiner = ", " if re.match(r"\d|level ", place) else " "
            return f"{', '.join(parts)}{joiner}{place}"
        return place[:1].upper() + place[1:]

    def display(self, lang: str) -> str:
        """``english()`` for English (``"en"``, ``"en-GB"``…), else ``canonical()``."""
        return self.english() if (lang or "").lower().startswith("en") else self.canonical()

    @property
    def complete(self) -> bool:
        """True when nothing is missing to find the place."""
        return self.missing is None


_AREA_PARTS = re.compile(r"^(?:(?P<floor>B?\d+)层)?(?P<base>.+?)(?:(?P<zone>[A-Z]\d?|\d{1,2})区|(?P<level>B?\d+)层)?$")


def _ordinal(number: str) -> str:
    n = int(number)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _english_area(area: str) -> str:
    parts = _AREA_PARTS.match(area)
    if not parts:
        return area
    base = parts.group("base")
    gate = re.fullmatch(r"(\d+)号门", base)
    place = _BY_ZH.get(base)
    name = f"gate {gate.group(1)}" if gate else (place.en if place else base)
    if parts.group("floor"):
        floor = parts.group("floor")
        name = f"level {floor} {name}" if floor.startswith("B") else f"{_ordinal(floor)} floor {name}"
    if parts.group("zone"):
        name += f", zone {parts.group('zone')}"
    if parts.group("level"):
        level = parts.group("level")
        garage = place is not None and place.kind == "garage"
        name += f", level {level}" if garage or level.startswith("B") else f", floor {level}"
    return name


def _area_name(place: _Place, floor: Optional[str], zone: Optional[str]) -> str:
    if place.kind == "garage":
        return place.zh + (f"{zone}区" if zone else f"{floor}层" if floor else "")
    if place.needs_building:
        return (f"{floor}层" if floor else "") + place.zh
    return place.zh + (f"{floor}层" if floor else "")


@lru_cache(maxsize=512)
def _groups(text: str) -> Tuple[str, Tuple[Tuple[AddressToken, ...], ...]]:
    """The masked text and its address groups; cached, since one message is read several
    times per turn (the description, the place, corrections, the NLU components)."""
    masked = mask_non_addresses(text)
    tokens = address_tokens(masked) + _place_tokens(masked)
    return masked, tuple(tuple(g) for g in group_address_tokens(masked, tokens))


def _located(text: str) -> Optional[Location]:
    masked, groups = _groups(text)
    flats = [g for g in groups if not any(t.kind == "area" for t in g)]
    # Buildings named elsewhere in the text ("我住5栋1203，电梯坏了" → the lift of building 5).
    elsewhere = {(parts.get("building"), parts.get("entrance"))
                 for parts in ({t.kind: t.value for t in g} for g in flats) if parts.get("building")}

    public: List[Location] = []
    for group in groups:
        area = next((t for t in group if t.kind == "area"), None)
        if area is None:
            continue
        place: _Place = area.data
        by_kind = {t.kind: t for t in group}
        building = by_kind.get("building")
        entrance = by_kind.get("entrance")
        if not place.needs_building and building is not None:
            near = building.end <= area.start and _TIGHT.match(masked[(entrance or building).end : area.start])
            if "room" in by_kind or not near:
                building = entrance = None  # the resident's flat, not part of the place
        b = building.value if building else None
        e = entrance.value if entrance else None
        if place.needs_building and b is None and len(elsewhere) == 1:
            b, e = next(iter(elsewhere))
        floor = by_kind["floor"].value if "floor" in by_kind else None
        zone = by_kind["zone"].value if "zone" in by_kind else None
        name = place.zh if re.fullmatch(r"\d+号门", area.value) else _area_name(place, floor, zone)
        missing = "building" if place.needs_building and b is None else None
        public.append(Location("public", building=b, entrance=e, area=name, missing=missing))
    if public:
        return next((p for p in public if p.complete), public[0])

    found: List[Location] = []
    for group in flats:
        parts = {t.kind: t.value for t in group}
        if not {"building", "room", "entrance"} & set(parts):
            continue  # a floor alone ("3楼") is not a place
        b, r = parts.get("building"), parts.get("room")
        missing = None if b and r else ("building" if not b else "room")
        found.append(Location("flat", building=b, entrance=parts.get("entrance"), room=r, missing=missing))
    return next((f for f in found if f.complete), found[0]) if found else None


#: Building-scoped places that are on one floor (a lift, a lobby, a roof are not).
_FLOORED = frozenset({"楼梯间", "楼道"})
_LEADING_FLOOR = re.compile(r"^B?\d+层")


def on_floor(place: Optional[Location], floor: str, replace: bool = True) -> Optional[Location]:
    """``place`` on floor ``floor`` ("2号楼3层楼道" on "4" is "2号楼4层楼道").

    ``None`` when the place is not one of a floor (a flat, a lift, a gate), is already on
    that floor, or (``replace`` False) already names another floor; a place named without
    a floor ("6号楼楼道") gets one.
    """
    if place is None or place.kind != "public" or not place.area:
        return None
    base = _LEADING_FLOOR.sub("", place.area)
    if base not in _FLOORED or (not replace and base != place.area):
        return None
    area = f"{floor.upper()}层{base}"
    if area == place.area:
        return None
    return Location(kind="public", building=place.building, entrance=place.entrance, area=area,
                    missing=place.missing)


def floor_named(text: str) -> Optional[str]:
    """The floor a message names on its own ("不对，是4楼", "the third floor", "负一层" → "4", "3",
    "B1"); the last one when it names several ("不是3楼，是5层"). ``None`` for "4号楼" (a building)."""
    _, groups = _groups(text or "")
    floors = [g[0].value for g in groups if len(g) == 1 and g[0].kind == "floor"]
    return floors[-1] if floors else None


def parse_location(text: str) -> Optional[Location]:
    """The best location named in ``text``, or ``None`` when it names none.

    A public place wins over the resident's own flat ("我住5栋1203，电梯坏了" is the
    lift of building 5); a complete address wins over a partial one. Partial answers
    say what is missing: "502" or "楼道" miss the building, "5号楼" misses the room.
    """
    return _located(text or "")


def address_spans(text: str) -> List[Tuple[int, int]]:
    """Spans of flat addresses and of buildings/entrances/rooms in ``text``.

    What a problem description does not need: the place itself stays when it is
    public ("楼道灯不亮"), but its building number goes ("3号楼楼道灯不亮").
    """
    _, groups = _groups(text or "")
    spans: List[Tuple[int, int]] = []
    for group in groups:
        if any(t.kind == "area" for t in group):
            spans += [(t.start, t.end) for t in group if t.kind in ("building", "entrance", "room")]
        elif {"building", "room", "entrance"} & {t.kind for t in group}:
            spans.append((group[0].start, group[-1].end))
    return spans


__all__ = ["Location", "parse_location", "address_spans"]
