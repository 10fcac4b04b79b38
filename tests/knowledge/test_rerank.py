"""The English reranker (knowledge/rerank.py): real e5 and MiniLM models on the demo index."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import store
from knowledge.embedding import get_embedder
from knowledge.records import Chunk
from knowledge.rerank import EnglishReranker, get_reranker, wordings
from knowledge.retrieval import Hit, Retriever


@pytest.fixture(scope="module")
def reranker() -> EnglishReranker:
    from knowledge.config import load_config

    cfg = load_config()
    return get_reranker(cfg.rerank_en, cfg.rerank_weight, cfg.rerank_depth)


def _pair(demo_index: Path, embed_model_dir: Path, reranker: EnglishReranker):
    stored, embedder = store.read(demo_index), get_embedder(embed_model_dir)
    return Retriever(stored, embedder, "vector"), Retriever(stored, embedder, "vector", reranker=reranker)


def test_office_closing_time_finds_the_office_hours_not_the_quiet_hours(
        demo_index: Path, embed_model_dir: Path, reranker: EnglishReranker) -> None:
    # The example: e5 alone puts "Are there quiet hours in the community?" first.
    plain, reranked = _pair(demo_index, embed_model_dir, reranker)
    question = "What time does the management office close?"
    assert plain.search(question, k=1, language="en")[0].chunk.faq_id != "contacts-office-hours"
    top = reranked.search(question, k=3, language="en")
    assert top[0].chunk.faq_id == "contacts-office-hours"
    # Only the order changes: the confidence is still the e5 cosine, the score the fused one.
    assert top[0].dense == pytest.approx(plain.cosine(top[0].chunk.chunk_id, plain.embedder.query(question)), abs=1e-5)
    assert top[0].score > top[0].dense and top[0].score >= top[1].score


def test_chinese_questions_and_follow_up_queries_are_not_reordered(
        demo_index: Path, embed_model_dir: Path, reranker: EnglishReranker) -> None:
    plain, reranked = _pair(demo_index, embed_model_dir, reranker)
    for question, lang, primary in (("物业几点下班？", "zh", False), ("What are the office hours? And on Sundays?", "en", True)):
        a = plain.search(question, k=5, language=lang, primary_only=primary)
        b = reranked.search(question, k=5, language=lang, primary_only=primary)
        assert [(h.chunk.chunk_id, h.score) for h in a] == [(h.chunk.chunk_id, h.score) for h in b]


def test_k_is_kept_and_the_candidates_come_from_the_e5_top(
        demo_index: Path, embed_model_dir: Path, reranker: EnglishReranker) -> None:
    plain, reranked = _pair(demo_index, embed_model_dir, reranker)
    question = "where do I pick up my packages"
    deep = {h.chunk.chunk_id for h in plain.search(question, k=reranker.depth, language="en")}
    for k in (1, 3):
        hits = reranked.search(question, k=k, language="en")
        assert len(hits) == k and {h.chunk.chunk_id for h in hits} <= deep


def test_a_chunk_is_scored_on_its_best_wording(reranker: EnglishReranker) -> None:
    chunk = Chunk("c1", "x", "faq", "Visitors register at the gate and park in zone B.", "en",
                  "How does visitor parking work?", extra={"similar": ["Where can my guests park?"]})
    assert wordings(chunk) == ["How does visitor parking work?\nVisitors register at the gate and park in zone B.",
                               "How does visitor parking work?", "Where can my guests park?"]
    other = Chunk("c2", "x", "faq", "Pay online in the app or at the office.", "en", "How do I pay the fee?")
    q = reranker.encode(["where can my guests park"])[0]
    scores = reranker.chunk_scores(q, [chunk, other])
    assert scores[0] == pytest.approx(float((reranker.encode(["Where can my guests park?"])[0] @ q)), abs=1e-4)
    assert scores[0] > scores[1] + 0.2
    # Staff edit the similar question (same entry, same number of them): embedded again, not stale.
    edited = Chunk("c1", "x", "faq", chunk.text, "en", chunk.title, extra={"similar": ["Is there a gym?"]})
    assert reranker.chunk_scores(q, [edited])[0] < scores[0] - 0.1
    hits = [Hit(other, 0.9, 0.9), Hit(chunk, 0.89, 0.89)]
    out = reranker.rerank("where can my guests park", hits)
    assert [h.chunk.chunk_id for h in out] == ["c2", "c1"][::-1] and [h.dense for h in out] == [0.89, 0.9]


def test_unknown_mode_is_refused_and_off_means_none() -> None:
    assert get_reranker("off", 1.0, 10) is None
    with pytest.raises(ValueError, match="rerank_en 'bge' unknown"):
        get_reranker("bge", 1.0, 10)


def test_warming_embeds_every_english_chunk_so_no_question_waits(answerer, monkeypatch) -> None:
    reranker = answerer.retriever.reranker
    assert reranker is not None  # the default configuration
    answerer.warm_reranker()
    english = [c for c in answerer.stored.chunks if c.language == "en"]

    def no_chunk_embedding(texts):
        assert len(texts) == 1, f"chunks embedded on a question: {len(texts)} texts"  # only the question itself
        return EnglishReranker.encode(reranker, texts)

    monkeypatch.setattr(reranker, "encode", no_chunk_embedding)
    assert len(reranker.chunk_scores(reranker.model.encode(["q"], normalize_embeddings=True)[0], english)) == len(english)
    answerer.retriever.search("Where are the parcel lockers?", k=3, language="en")
