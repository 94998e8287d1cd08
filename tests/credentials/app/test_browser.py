"""The public verify page in a real browser (Debian's Chromium, driven by Playwright):
paste a credential, upload a file, open the link a certificate's QR code carries; in
Korean and in English, on a phone-sized window."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from oneteam.credentials import actions
from tests.consortium.conftest import LedgerNode
from tests.credentials.app.conftest import Issuing

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TEXT = {
    "ko": {"language": "한국어", "verify": "검증", "verified": "검증됨: 모든 검사를 통과했습니다.",
           "anchored": "원장 블록"},
    "en": {"language": "English", "verify": "Verify",
           "verified": "Verified: every check passed.", "anchored": "Anchored on the ledger"},
}


def statuses(page: Any) -> dict[str, str]:
    return {item.get_attribute("data-check"): item.get_attribute("data-status")
            for item in page.locator("li.check").all()}


@pytest.mark.parametrize("language", ["ko", "en"])
def test_paste_upload_and_open_the_qr_link(browser_page: Any, ledger: LedgerNode,
                                           issuing: Issuing, tmp_path: Path,
                                           language: str) -> None:
    text = TEXT[language]
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    issued = actions.do_issue_credential(actor=issuing.instructor,
                                         achievement=issuing.achievement,
                                         recipient=issuing.learner)
    issued.refresh_from_db()
    document = issued.document

    page.goto("/credentials/verify/")
    page.get_by_role("button", name=text["language"]).click()
    page.wait_for_selector(f"html[lang={language}]")
    page.locator("#id_credential").fill(json.dumps(document, ensure_ascii=False))
    page.get_by_role("button", name=text["verify"], exact=True).click()
    page.wait_for_selector("section.verify-report")
    assert page.locator("section.verify-report").get_attribute("data-verified") == "true"
    page.get_by_text(text["verified"]).wait_for()
    assert statuses(page) == {
        "format": "passed", "structure": "passed", "jsonld": "passed",
        "issuer_key": "passed", "proof": "passed", "status": "passed",
        "validity": "passed", "anchor": "passed", "membership": "passed",
        "status_anchor": "passed"}
    assert text["anchored"] in page.locator("li[data-check=anchor]").inner_text()

    # A file whose achievement was renamed after signing: the signature check names it.
    tampered = copy.deepcopy(document)
    tampered["credentialSubject"]["achievement"]["name"] = "Chief Scientist"
    upload = tmp_path / "credential.json"
    upload.write_text(json.dumps(tampered), encoding="utf-8")
    page.goto("/credentials/verify/")
    page.locator("#id_file").set_input_files(str(upload))
    page.get_by_role("button", name=text["verify"], exact=True).click()
    page.wait_for_selector("section.verify-report")
    assert page.locator("section.verify-report").get_attribute("data-verified") == "false"
    assert statuses(page)["proof"] == "failed"
    assert "PROOF_VERIFICATION_ERROR" in page.locator("li[data-check=proof]").inner_text()

    # The certificate's QR code opens the stored credential's verify page.
    page.goto(f"/credentials/verify/{issued.public_id}/")
    assert page.locator("section.verify-report").get_attribute("data-verified") == "true"
    assert page.locator("#id_credential").count() == 0  # nothing to paste there

    # Revoked, the same link says so.
    actions.do_revoke_credential(actor=issuing.instructor, credential=issued,
                                 reason="Plagiarism")
    page.reload()
    assert page.locator("section.verify-report").get_attribute("data-verified") == "false"
    assert statuses(page)["status"] == "failed"
