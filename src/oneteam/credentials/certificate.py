"""A printable certificate of an issued credential: one A4 page (PDF) with a QR code.

The page is a human-readable view of the credential; the credential itself (its JSON,
its proofs) is what is verified. The QR code, and a link over it, open the public
verify page of this credential, where anyone sees each check. Korean text is set in
Nanum Gothic, which ships with the package (fonts/, SIL Open Font License) and is
embedded as a subset, so the PDF shows the same everywhere.
"""

from __future__ import annotations

import logging
from pathlib import Path

import segno
from fpdf import FPDF

# The font's hinting-source tables (TSI*) cannot be subset and are dropped, which is
# what a printed page wants; fontTools says so at warning level on every certificate.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

FONT = Path(__file__).with_name("fonts") / "NanumGothic.ttf"
PAGE_W_MM = 210.0
QR_SIZE_MM = 42.0


def qr_modules(url: str) -> list[list[bool]]:
    """The dark (True) and light modules of the QR code for ``url``, quiet zone excluded."""
    code = segno.make_qr(url, error="m")
    return [[bool(cell) for cell in row] for row in code.matrix]


def render_certificate_pdf(*, recipient: str, achievement: str, description: str,
                           issuer_ko: str, issuer_en: str, issued_on: str,
                           valid_until: str | None, credential_id: str, state_label: str,
                           verify_url: str) -> bytes:
    """The certificate as PDF bytes; every text argument is shown as given."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"{achievement} — {recipient}")
    pdf.set_author(issuer_en or issuer_ko)
    pdf.set_creator("OneTeam")
    pdf.set_auto_page_break(auto=False)
    pdf.add_font("Nanum", "", str(FONT))
    pdf.add_page()
    width = PAGE_W_MM - 40

    pdf.set_draw_color(40, 70, 120)
    pdf.set_line_width(0.8)
    pdf.rect(10, 10, PAGE_W_MM - 20, 277)

    pdf.set_xy(20, 30)
    pdf.set_font("Nanum", size=30)
    pdf.cell(width, 14, "수료증", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(20)
    pdf.set_font("Nanum", size=14)
    pdf.cell(width, 8, "Certificate of Achievement", align="C", new_x="LMARGIN",
             new_y="NEXT")

    pdf.set_xy(20, 70)
    pdf.set_font("Nanum", size=22)
    pdf.multi_cell(width, 11, recipient, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(20)
    pdf.set_font("Nanum", size=12)
    pdf.multi_cell(width, 7, "위 사람은 아래 성취를 인정받았음을 증명합니다.\n"
                   "has been recognised for the achievement below.", align="C",
                   new_x="LMARGIN", new_y="NEXT")

    pdf.set_xy(20, pdf.get_y() + 8)
    pdf.set_font("Nanum", size=18)
    pdf.multi_cell(width, 9, achievement, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(25)
    pdf.set_font("Nanum", size=11)
    pdf.multi_cell(width - 10, 6, description[:600], align="C", new_x="LMARGIN",
                   new_y="NEXT")

    pdf.set_xy(20, 175)
    pdf.set_font("Nanum", size=12)
    lines = [f"발급 기관 Issuer: {issuer_ko} ({issuer_en})",
             f"발급일 Issued: {issued_on}"]
    if valid_until:
        lines.append(f"유효 기한 Valid until: {valid_until}")
    lines.append(f"상태 Status: {state_label}")
    for line in lines:
        pdf.set_x(20)
        pdf.multi_cell(width, 7, line, align="L", new_x="LMARGIN", new_y="NEXT")

    # The QR code, drawn module by module (vector, no image), with a link over it.
    modules = qr_modules(verify_url)
    module_mm = QR_SIZE_MM / len(modules)
    left, top = PAGE_W_MM - 20 - QR_SIZE_MM, 225.0
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(modules):
        for column_index, dark in enumerate(row):
            if dark:
                pdf.rect(left + column_index * module_mm, top + row_index * module_mm,
                         module_mm, module_mm, style="F")
    pdf.link(left, top, QR_SIZE_MM, QR_SIZE_MM, verify_url)

    pdf.set_xy(20, 228)
    pdf.set_font("Nanum", size=10)
    pdf.multi_cell(width - QR_SIZE_MM - 8, 5,
                   "이 증명서는 전자 자격증명(Open Badges 3.0)을 사람이 읽도록 보여 줍니다. "
                   "QR 코드로 검증 페이지를 열어 서명, 발급 기관, 원장 기록, 상태를 확인하세요.\n"
                   "This page shows a verifiable credential (Open Badges 3.0). Open the QR code "
                   "to check its signature, issuer, ledger anchor and status.",
                   align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(20)
    pdf.set_font("Nanum", size=8)
    pdf.multi_cell(width - QR_SIZE_MM - 8, 4, f"{credential_id}\n{verify_url}", align="L")
    return bytes(pdf.output())
