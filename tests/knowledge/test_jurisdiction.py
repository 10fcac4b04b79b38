"""Other places' regulations are never cited when the community's region is set (knowledge/jurisdiction.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.answer import Answerer
from knowledge.config import load_config
from knowledge.jurisdiction import applies, place_of

NATIONAL = """# 物业管理条例

第十二条 业主大会会议可以采用集体讨论的形式，也可以采用书面征求意见的形式。

业主大会决定本条例第十一条第（五）项和第（六）项规定的事项，应当经专有部分占建筑物总面积三分之二以上的业主且占总人数三分之二以上的业主同意；决定本条例第十一条规定的其他事项，应当经专有部分占建筑物总面积过半数的业主且占总人数过半数的业主同意。
"""
QINGDAO = """# 青岛市物业管理条例

第二十八条 业主大会作出决定，应当经参与表决专有部分面积过半数的业主且参与表决人数过半数的业主同意。

第四十条 物业服务人应当在物业服务区域内显著位置公示物业服务事项、服务标准和收费项目。
"""
HANGZHOU = """# 杭州市物业管理条例

第三十一条 物业服务人应当按照约定每年向业主公开物业服务合同履行情况、公共收益收支情况。
"""
# A community's own rules: no place, so it always applies (even though it names a city's word).
OWN = """# 阳光城市花园管理规约

第一条 业主饲养宠物应当遵守本规约，遛狗时应当牵绳。
"""

QUESTIONS = ["业主大会的决定需要多少业主同意？", "业主大会作出决定要多少人同意", "物业要公示哪些收费项目？",
             "遛狗要牵绳吗"]


@pytest.mark.parametrize("title, place", [
    ("北京市物业管理条例", "北京市"), ("上海市住宅物业管理规定(2020-12-30).md", "上海市"),
    ("《杭州市物业管理条例》", "杭州市"), ("黑龙江省物业服务收费管理办法", "黑龙江省"),
    ("新疆维吾尔自治区物业管理条例", "新疆维吾尔自治区"),
    ("物业管理条例", None), ("中华人民共和国民法典", None), ("最高人民法院关于审理物业服务纠纷案件适用法律若干问题的解释", None),
    ("阳光城市花园管理规约", None),      # a community's papers: not an instrument of a government
    ("超市购物须知", None), ("关于加强本市物业管理的通知", None), ("张某某诉某物业公司等财产损害赔偿案", None),
])
def test_the_place_is_read_from_the_title(title: str, place: str) -> None:
    assert place_of(title) == place


def test_a_place_applies_when_the_region_names_it() -> None:
    assert applies("杭州市", "浙江省杭州市") and applies("浙江省", "浙江省杭州市") and applies("杭州市", "杭州")
    assert not applies("青岛市", "浙江省杭州市") and not applies("北京市", "浙江省杭州市")
    assert applies(None, "浙江省杭州市")            # national law binds everyone
    assert applies("北京市", "")                    # no region: everything, as before


@pytest.fixture(scope="module")
def regions_index(tmp_path_factory: pytest.TempPathFactory, embed_model_dir: Path) -> Path:
    from knowledge.ingest import ingest

    src = tmp_path_factory.mktemp("region_sources")
    for name, text in (("物业管理条例.md", NATIONAL), ("青岛市物业管理条例.md", QINGDAO),
                       ("杭州市物业管理条例.md", HANGZHOU), ("阳光城市花园管理规约.md", OWN)):
        (src / name).write_text(text, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("region_index")
    ingest([str(src)], index_dir, embed_model_dir, progress=False)
    return index_dir


def _answerer(index: Path, region: str) -> Answerer:
    cfg = load_config().with_overrides(generator="extractive", unanswered_log=str(index / "unanswered.jsonl"),
                                       region=region)
    return Answerer(cfg, index)


def _titles(answerer: Answerer, question: str) -> list:
    return [h.chunk.title for h in answerer.retriever.search(question, k=10, language="zh")]


def test_without_a_region_every_place_is_searched(regions_index: Path) -> None:
    everywhere = _answerer(regions_index, "")
    assert not everywhere.retriever.excluded
    assert any("青岛市物业管理条例" in _titles(everywhere, q) for q in QUESTIONS)


def test_with_a_region_other_places_are_never_retrieved_or_cited(regions_index: Path) -> None:
    hangzhou = _answerer(regions_index, "浙江省杭州市")
    assert set(hangzhou.retriever.excluded_documents.values()) == {"青岛市"}
    for question in QUESTIONS:
        titles = _titles(hangzhou, question)
        assert titles and "青岛市物业管理条例" not in titles, (question, titles)
        answer = hangzhou.ask(question, "zh", log_unanswered=False)
        assert "青岛" not in answer.answer and all("青岛" not in str(c) for c in answer.citations), answer.answer
    # National law, the city's own regulation and the community's rules are all still there.
    found = {t for q in QUESTIONS for t in _titles(hangzhou, q)}
    assert {"物业管理条例", "杭州市物业管理条例", "阳光城市花园管理规约"} <= found
    # The majority rule is answered from national law, not from Qingdao's.
    answer = hangzhou.ask(QUESTIONS[0], "zh", log_unanswered=False)
    assert not answer.abstained and "第十二条" in answer.answer, answer.answer
