"""BM25 keyword search with jieba segmentation for Chinese (sparse matrix, fast)."""

from __future__ import annotations

import logging
import re
from typing import Dict, List, Sequence

import numpy as np
from scipy import sparse

K1, B = 1.5, 0.75
_WORD = re.compile(r"[\w\u3400-\u9fff]+", re.U)
_HAN = re.compile(r"[\u3400-\u9fff]")
STOPWORDS = set(
    "的 了 吗 呢 吧 啊 呀 么 是 在 我 我们 你 你们 他 她 它 和 与 及 或 也 都 就 还 要 会 能 可以 请问 请 怎么 怎样 如何 什么 哪里 "
    "哪儿 多少 几 有 没有 一下 这个 那个 这 那 个 给 把 被 对 吗？ 嘛 "
    "a an the is are was were be been to of in on at for and or with do does did can could i we you my our your "
    "it this that what how where when which who there here have has had will would should may please about any "
    "me us if from by as so not no".split()
)
_jieba_ready = False


def tokenize(text: str) -> List[str]:
    """Lower-cased words: jieba search-mode tokens for Chinese, words for Latin script."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        jieba.setLogLevel(logging.WARNING)  # silence "Building prefix dict" on stderr
        _jieba_ready = True
    tokens: List[str] = []
    for span in _WORD.findall(text.lower()):
        if _HAN.search(span):
            tokens.extend(t for t in jieba.lcut_for_search(span) if t.strip())
        else:
            tokens.append(_stem(span))
    return [t for t in tokens if t not in STOPWORDS]


def _stem(word: str) -> str:
    # light English stemming: plural / -ing / -ed (enough for FAQ matching)
    for suf, min_len in (("ies", 5), ("ing", 6), ("ed", 5), ("es", 5), ("s", 4)):
        if word.endswith(suf) and len(word) >= min_len:
            return word[: -len(suf)] + ("y" if suf == "ies" else "")
    return word


class BM25Index:
    """Okapi BM25 over pre-tokenised documents."""

    def __init__(self, docs_tokens: Sequence[Sequence[str]]) -> None:
        self.vocab: Dict[str, int] = {}
        rows, cols, vals = [], [], []
        lengths = np.zeros(len(docs_tokens), dtype="float32")
        for d, toks in enumerate(docs_tokens):
            lengths[d] = len(toks)
            counts: Dict[int, int] = {}
            for t in toks:
                j = self.vocab.setdefault(t, len(self.vocab))
                counts[j] = counts.get(j, 0) + 1
            for j, c in counts.items():
                rows.append(d)
                cols.append(j)
                vals.append(c)
        n = max(len(docs_tokens), 1)
        tf = sparse.csr_matrix((np.array(vals, dtype="float32"), (rows, cols)), shape=(len(docs_tokens), len(self.vocab)))
        df = np.bincount(np.array(cols, dtype="int64"), minlength=len(self.vocab)).astype("float32")
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        avgdl = float(lengths.mean()) if len(lengths) else 1.0
        norm = K1 * (1 - B + B * lengths / max(avgdl, 1e-6))
        tf = tf.tocoo()
        w = tf.data * (K1 + 1) / (tf.data + norm[tf.row]) * idf[tf.col]
        # column-major: scoring a query sums a few columns
        self.matrix = sparse.csc_matrix((w.astype("float32"), (tf.row, tf.col)), shape=tf.shape)
        self.n_docs = len(docs_tokens)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the query."""
        cols = [self.vocab[t] for t in query_tokens if t in self.vocab]
        if not cols:
            return np.zeros(self.n_docs, dtype="float32")
        return np.asarray(self.matrix[:, cols].sum(axis=1)).ravel()

    def search(self, query_tokens: Sequence[str], k: int) -> List[tuple]:
        """Top-k (doc index, score) pairs with a positive score."""
        s = self.scores(query_tokens)
        if k < len(s):
            top = np.argpartition(-s, k)[:k]
        else:
            top = np.arange(len(s))
        top = top[np.argsort(-s[top])]
        return [(int(i), float(s[i])) for i in top if s[i] > 0]
