"""The printable certificate's QR code encodes the verify URL, and the PDF renders Korean."""

from __future__ import annotations

import segno

from oneteam.credentials.certificate import qr_modules, render_certificate_pdf


def test_the_qr_code_is_the_verify_url() -> None:
    url = "https://oneteam.example/credentials/verify/5f0c/"
    modules = qr_modules(url)
    expected = segno.make_qr(url, error="m").matrix
    assert modules == [[bool(cell) for cell in row] for row in expected]
    assert len(modules) == len(modules[0]) >= 21  # a square, version 1 or more


def test_a_certificate_is_one_page_with_its_link() -> None:
    url = "https://oneteam.example/credentials/verify/abc/"
    pdf = render_certificate_pdf(
        recipient="학습자 정지우", achievement="AI 개발자 과정 수료",
        description="6개월 과정을 마쳤습니다.", issuer_ko="한국과학기술원", issuer_en="KAIST",
        issued_on="2026-11-22", valid_until=None, credential_id="urn:uuid:abc",
        state_label="유효", verify_url=url)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert pdf.count(b"/Type /Page\n") == 1
    assert f"/URI ({url})".encode() in pdf
    assert len(pdf) < 200_000  # the font is embedded as a subset, not whole (4.7 MB)
