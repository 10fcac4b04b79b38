"""Concise answers (knowledge/concise.py): the sentence of a real article that answers, lead + citation, FAQ fit.

The articles are quoted verbatim from ../shared/datasets/property_regulations_zh
(北京市物业管理条例 2024, 物业管理条例 2018); sentences are scored with the real
multilingual-e5-small embedder the retriever uses.
"""

from __future__ import annotations

import pytest

from knowledge import concise
from knowledge.grounding import unsupported_facts
from knowledge.records import Chunk

# 北京市物业管理条例 第十九条 (verbatim)
BJ_19 = ("第十九条 建设单位承担前期物业服务责任。建设单位销售房屋前，应当选聘前期物业服务人，签订前期物业服务合同。\n"
         "前期物业服务合同应当就前期物业服务是否收费、服务内容以及收费标准进行约定，约定的内容作为房屋买卖合同的附件或者直接纳入房屋买卖合同。\n"
         "前期物业服务合同期限最长不超过二年，具体期限在前期物业服务合同中约定。期限届满前三个月，由业主共同决定是否继续使用前期物业服务人。"
         "期限届满，业主与新物业服务人签订的物业服务合同生效之前，前期物业服务人继续提供服务；期限未满或者未约定前期物业服务期限，"
         "业主与新物业服务人签订的物业服务合同生效的，前期物业服务合同终止。")
# 北京市物业管理条例 第二十条 (verbatim)
BJ_20 = ("第二十条 建设单位与前期物业服务人应当在区住房和城乡建设或者房屋主管部门的指导、监督下，共同确认物业管理区域，"
         "对物业管理区域内的共用部位、共用设施设备进行查验，确认现场查验结果，形成查验记录，签订物业承接查验协议，并向业主公开查验的结果。\n"
         "承接查验协议应当对物业承接查验基本情况、存在问题、解决方法及其时限、双方权利义务、违约责任等事项作出约定。"
         "对于承接查验发现的问题，建设单位应当在三十日内予以整改，或者委托前期物业服务人整改。\n"
         "未经业主同意，建设单位不得占用物业管理区域内的共用部位、共用设施设备。")
# 北京市物业管理条例 第二十一条 (verbatim): a list with its introduction
BJ_21 = ("第二十一条 在办理物业承接查验手续时，建设单位应当向前期物业服务人移交下列资料：\n"
         "（一）物业管理区域划分相关文件；\n"
         "（二）竣工总平面图，单体建筑、结构、设备的竣工图，配套设施、地下管网工程竣工图等竣工验收资料；\n"
         "（三）设施设备的安装、使用和维护保养等技术资料；\n"
         "（四）物业质量保修文件和物业使用说明文件；\n"
         "（五）物业管理必需的其他资料。\n"
         "物业已投入使用，上述资料未移交的，应当移交；资料不全的，应当补齐。")


@pytest.fixture(scope="module")
def embedder(embed_model_dir):
    from knowledge.embedding import get_embedder

    return get_embedder(embed_model_dir)


def _chunk(text: str, article: str, title: str = "北京市物业管理条例") -> Chunk:
    return Chunk(chunk_id=f"doc:{title}#{article}", source=f"{title}.md", kind="doc", text=text, language="zh",
                 title=title, section="第三章 前期物业", article=article)


def test_units_split_on_chinese_sentence_ends_and_numbered_clauses() -> None:
    units = concise.split_units(BJ_21)
    assert units[0].text.startswith("在办理物业承接查验手续时") and units[0].intro  # "第二十一条 " removed
    assert [u.text[:3] for u in units if u.item] == ["（一）", "（二）", "（三）", "（四）", "（五）"]
    inline = concise.split_units("第七条 业主履行下列义务：（一）遵守管理规约；（二）按时交纳物业服务费用。")
    assert [u.text for u in inline] == ["业主履行下列义务：", "（一）遵守管理规约；", "（二）按时交纳物业服务费用。"]


@pytest.mark.parametrize("question, article, must, must_not", [
    ("前期物业服务合同最长可以签几年？", BJ_19, "最长不超过二年", "建设单位承担前期物业服务责任"),
    ("承接查验发现的问题，开发商多久内要整改？", BJ_20, "三十日内予以整改", "签订物业承接查验协议"),
    ("开发商可以占用小区的共用部位吗？", BJ_20, "不得占用", "三十日内"),
])
def test_the_sentence_with_the_answer_is_chosen(embedder, question, article, must, must_not) -> None:
    body = concise.select(question, article, embedder)
    assert must in body, body
    assert must_not not in body, body
    assert len(body) <= concise.MAX_CHARS and len(body) < len(article) * 0.6
    assert all(u.text.rstrip("。；") in article for u in concise.split_units(body))  # the article's own words


def test_a_chosen_clause_brings_its_introduction(embedder) -> None:
    body = concise.select("办理承接查验时开发商要移交竣工图吗？", BJ_21, embedder)
    assert "竣工总平面图" in body and body.startswith("在办理物业承接查验手续时，建设单位应当向前期物业服务人移交下列资料：")
    assert "（四）" not in body


def test_zh_reply_has_the_lead_then_the_sentence_and_is_grounded(embedder) -> None:
    chunk = _chunk(BJ_19, "第十九条")
    lead, body = concise.regulation_reply("前期物业服务合同最长可以签几年？", chunk, "zh", embedder)
    assert lead == "根据《北京市物业管理条例》第十九条："
    assert "最长不超过二年" in body
    assert unsupported_facts(lead + body, [f"《{chunk.title}》{chunk.article} {chunk.text}"]) == []


def test_en_reply_says_it_quotes_the_chinese_original(embedder) -> None:
    lead, body = concise.regulation_reply("How long can the initial property service contract last?",
                                          _chunk(BJ_19, "第十九条（续）"), "en", embedder)
    assert lead == "Article 19 of 《北京市物业管理条例》 says (quoted in the Chinese original): "
    assert "\n" not in lead and "最长不超过二年" in body


def test_answerer_gives_lead_sentence_and_citation(answerer) -> None:
    result = answerer.ask("物业管理用房归谁所有？")
    assert result.mode == "fallback" and result.lead == "根据《物业管理条例》第三十七条："
    assert result.answer.startswith("根据《物业管理条例》第三十七条：物业管理用房的所有权依法属于业主。")
    assert "第三十七条 " not in result.answer  # the article's own heading is not repeated
    assert result.reply_text().endswith("\n来源：《物业管理条例》第三十七条")


def test_verbatim_style_still_returns_the_whole_article(demo_index) -> None:
    from knowledge.answer import Answerer
    from knowledge.config import load_config

    cfg = load_config().with_overrides(generator="extractive", answer_style="verbatim",
                                       unanswered_log=str(demo_index / "unanswered.jsonl"))
    result = Answerer(cfg, demo_index).ask("物业管理用房归谁所有？")
    assert result.answer.startswith("第三十七条 物业管理用房") and result.lead == ""


@pytest.mark.parametrize("question, language, expected", [
    ("养狗需要登记吗？", "zh", True), ("小区里遛狗必须牵绳吗", "zh", True), ("能不能刷脸进单元门？", "zh", True),
    ("刚买了只小狗，要去哪里办证？", "zh", False), ("养狗怎么登记？", "zh", False), ("这是为什么？", "zh", False),
    ("Do I need to register my dog?", "en", True), ("I lost my card, can I get a new one?", "en", True),
    ("How do I register my dog?", "en", False), ("Where do I register a dog?", "en", False),
])
def test_yes_no_questions_are_told_from_open_ones(question, language, expected) -> None:
    assert concise.is_yes_no_question(question, language) is expected


FAQ_PETS_ZH = ("需要。养犬须到辖区派出所办理养犬登记并每年年检、按时注射狂犬疫苗，并在物业服务中心备案犬只信息；小区禁止饲养烈性犬。")
FAQ_PETS_EN = ("Yes. Register the dog at the local police station, renew yearly, keep rabies vaccinations up to date, "
               "and file the dog's details with the Service Centre. Dangerous breeds are not allowed in the community.")


def test_yes_no_opening_is_dropped_for_a_how_question_and_kept_for_a_yes_no_question() -> None:
    assert concise.fit_faq_answer("养狗怎么登记？", FAQ_PETS_ZH, "zh") == FAQ_PETS_ZH[len("需要。"):]
    assert concise.fit_faq_answer("养狗需要登记吗？", FAQ_PETS_ZH, "zh") == FAQ_PETS_ZH
    assert concise.fit_faq_answer("How do I register my dog?", FAQ_PETS_EN, "en").startswith("Register the dog at")
    assert concise.fit_faq_answer("Do I need to register my dog?", FAQ_PETS_EN, "en") == FAQ_PETS_EN
    # "可以，但需提前预约" -> "需提前预约…" for "how"; a negative opening stays unless the rest still says no
    assert concise.fit_faq_answer("搬家公司怎么用电梯？", "可以，但需提前预约，物业会为电梯加装保护板。", "zh") == \
        "需提前预约，物业会为电梯加装保护板。"
    assert concise.fit_faq_answer("楼道里放自行车有什么规定？", "不可以。楼道禁止堆放杂物。", "zh") == "楼道禁止堆放杂物。"
    assert concise.fit_faq_answer("门卡怎么办？", "不需要。到服务中心登记即可。", "zh") == "不需要。到服务中心登记即可。"


def test_answerer_fits_the_curated_faq_answer_to_the_question(answerer) -> None:
    how = answerer.ask("养狗怎么办理登记？", "zh")
    assert not how.abstained and how.citations[0]["faq_id"] == "pets-registration"
    assert how.answer.startswith("养犬须到辖区派出所办理养犬登记"), how.answer
    yes_no = answerer.ask("养狗需要登记吗？", "zh")
    assert yes_no.answer.startswith("需要。养犬须到辖区派出所")
