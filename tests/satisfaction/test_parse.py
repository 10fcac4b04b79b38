"""Reading the answer to a satisfaction prompt: scores, comments, and what is not a rating."""

from __future__ import annotations

import pytest

from bot.satisfaction.parse import Rating, is_no_comment, parse_rating


@pytest.mark.parametrize("text, score", [
    ("5", 5), ("4分", 4), ("打5分吧", 5), ("给个五星", 5), ("五星", 5), ("三", 3), ("４分", 4), ("5！", 5),
    ("⭐⭐⭐", 3), ("★★★★☆", 4), ("🌟🌟🌟🌟🌟", 5),
    ("非常满意", 5), ("十分满意", 5), ("五星好评", 5), ("满意", 4), ("还不错", 4), ("服务很好", 4), ("一般", 3),
    ("还行吧", 3), ("不满意", 2), ("不太满意", 2), ("很不满意", 1), ("差评", 1), ("太差了", 1),
    ("very good", 5), ("Great", 5), ("the service was great", 5), ("good", 4), ("not bad", 4), ("so-so", 3),
    ("poor", 2), ("terrible", 1), ("5 stars", 5), ("4/5", 4), ("4 out of 5", 4), ("five", 5), ("I give it a 4", 4),
    ("rating: 3", 3),
])
def test_scores_in_both_languages(text: str, score: int) -> None:
    assert parse_rating(text) == Rating(score, None)


@pytest.mark.parametrize("text, score, comment", [
    ("3 - slow but fixed", 3, "slow but fixed"), ("3 slow but fixed", 3, "slow but fixed"),
    ("4分，师傅很专业", 4, "师傅很专业"), ("4分师傅很专业", 4, "师傅很专业"), ("不满意，师傅没修好", 2, "师傅没修好"),
    ("good, but it took two days", 4, "but it took two days"), ("⭐⭐ 来得太晚了", 2, "来得太晚了"),
])
def test_a_number_with_a_comment_counts_as_both(text: str, score: int, comment: str) -> None:
    assert parse_rating(text) == Rating(score, comment)


@pytest.mark.parametrize("text", ["5分 谢谢", "非常满意！谢谢", "great, thanks"])
def test_thanks_after_the_score_is_not_a_comment(text: str) -> None:
    rating = parse_rating(text)
    assert rating is not None and rating.comment is None


@pytest.mark.parametrize("text", [
    "5楼漏水了", "5栋1203", "3点来修", "5分钟后再来", "3天了还没修", "4号楼", "5 楼", "1203", "10分", "50", "5.5", "1-5",
    "good morning", "ok", "好的", "转人工", "我要报修", "我家又漏水了", "/affirm", "", "   ", "厨房煤气味很重",
    "what are the office hours?",
])
def test_other_messages_are_not_ratings(text: str) -> None:
    assert parse_rating(text) is None


@pytest.mark.parametrize("text", ["没有", "没有，谢谢", "没了", "不用了谢谢", "no", "No thanks", "nothing else", "谢谢",
                                  "that's all"])
def test_declining_to_comment(text: str) -> None:
    assert is_no_comment(text)


@pytest.mark.parametrize("text", ["师傅态度很好", "the plumber was late", "没有按时上门", "no one came on time"])
def test_comments_are_not_declines(text: str) -> None:
    assert not is_no_comment(text)
