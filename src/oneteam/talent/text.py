"""Text for search: splitting into passages, and Korean-aware tokens for BM25.

Tokens come from Kiwi (kiwipiepy), a Korean morphological analyzer whose model ships in
the `kiwipiepy_model` package, so nothing is downloaded. Korean text keeps its nouns,
roots and verb/adjective stems (particles and endings dropped: 데이터를 -> 데이터);
Latin-script words are lowercased, English stop words dropped. Korean and English text
share one vocabulary; the other language is reached through the taxonomy's aliases
(search) and through multilingual embeddings.

Passages (sentences, each bounded) are the unit the index caches: a corpus built from
recurring phrases tokenizes and embeds each distinct phrase once.
"""

from __future__ import annotations

import re
import threading
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, Protocol

PASSAGES_PER_TEXT_MAX = 64
PASSAGE_CHARS_MAX = 400
TEXT_CHARS_MAX = 20_000

# Kiwi's tags kept for search: general and proper nouns, roots, verb and adjective stems,
# Latin-script words and Chinese characters (numbers are left out: "3년", "3+ years").
KEPT_TAGS = frozenset({"NNG", "NNP", "XR", "VV", "VA", "SL", "SH"})
ENGLISH_STOP_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "do", "for",
    "from", "has", "have", "i", "in", "into", "is", "it", "its", "of", "on", "or", "our",
    "over", "the", "their", "them", "they", "this", "to", "was", "we", "were", "which",
    "will", "with", "you", "your", "who", "what", "when", "where", "how", "about", "more",
    "most", "than", "very", "also", "able", "such", "using", "use", "used", "years", "year"))
HANGUL_TEXT = re.compile(r"[\uac00-\ud7a3]")
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|[\r\n]+")


def split_passages(text: str) -> list[str]:
    """Sentences of a text, stripped, each at most PASSAGE_CHARS_MAX characters.

    At most PASSAGES_PER_TEXT_MAX passages and TEXT_CHARS_MAX characters are read: the
    rest of a longer text is ignored (a profile or posting is not a book).
    """
    text = unicodedata.normalize("NFC", text[:TEXT_CHARS_MAX])
    passages: list[str] = []
    for raw in _SENTENCE_END.split(text):
        piece = " ".join(raw.split())
        while piece and len(passages) < PASSAGES_PER_TEXT_MAX:
            if len(piece) <= PASSAGE_CHARS_MAX:
                passages.append(piece)
                break
            cut = piece.rfind(" ", 0, PASSAGE_CHARS_MAX)
            cut = cut if cut > PASSAGE_CHARS_MAX // 2 else PASSAGE_CHARS_MAX
            passages.append(piece[:cut].strip())
            piece = piece[cut:].strip()
        if len(passages) >= PASSAGES_PER_TEXT_MAX:
            break
    return passages


class Tokenizer(Protocol):
    """Turns a passage into index terms."""

    def tokenize(self, text: str) -> list[str]: ...

    def tokenize_many(self, texts: Sequence[str]) -> list[list[str]]: ...


class KiwiTokenizer:
    """Korean morphological tokens (Kiwi), lowercased Latin words, no stop words.

    ``user_words`` are added to Kiwi's dictionary as proper nouns: the taxonomy's Korean
    skill names, so that a loanword Kiwi does not know ("파이토치로") still splits into
    the name and its particle.
    """

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        self._kiwi: Any = None
        self._lock = threading.Lock()
        self._user_words = sorted({word for word in user_words
                                   if word and " " not in word and HANGUL_TEXT.search(word)})

    def _analyzer(self) -> Any:
        with self._lock:
            if self._kiwi is None:
                from kiwipiepy import Kiwi

                # one thread, no worker pool: callers tokenize one passage at a time, and
                # the platform's processes already use every core. 0 has meant that since
                # kiwipiepy 0.21, which still warns that the meaning changed.
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message="behavior of `num_workers=0`",
                                            category=DeprecationWarning)
                    self._kiwi = Kiwi(num_workers=0)
                for word in self._user_words:
                    self._kiwi.add_user_word(word, "NNP")
            return self._kiwi

    def tokenize(self, text: str) -> list[str]:
        return _terms(self._analyzer().tokenize(text))

    def tokenize_many(self, texts: Sequence[str]) -> list[list[str]]:
        kiwi = self._analyzer()
        return [_terms(kiwi.tokenize(text)) for text in texts]


def _terms(tokens: Iterable[Any]) -> list[str]:
    terms = []
    for token in tokens:
        if token.tag not in KEPT_TAGS:
            continue
        form = token.form.casefold()
        # Kiwi's dictionary has multi-word entries ("데이터 시각화"): index their words
        for word in form.split():
            if token.tag == "SL" and (len(word) < 2 or word in ENGLISH_STOP_WORDS):
                continue
            terms.append(word)
    return terms


@lru_cache(maxsize=1)
def shared_tokenizer() -> KiwiTokenizer:
    """One Kiwi per process, knowing the shipped taxonomy's Korean skill names (its model
    loads on first use: a second and 100 MB)."""
    from oneteam.talent.taxonomy import default_taxonomy

    return KiwiTokenizer(name for skill in default_taxonomy().skills for name in skill.names())
