"""The printed paper read back (issue 15, item 3): a paper round end to end through the PDF.

The PDF is parsed with pypdf: one page per person who may answer, each with the question texts
and its sheet code. Each page's QR code is *decoded* from the image embedded in the PDF by a real
decoder (zxing-cpp, a test dependency with wheels for every platform) — not regenerated and
compared — so the test proves a phone could scan it; the decoded text is then entered as the
sheet's code, exactly as a scanner would type it. The batch is attested with a mismatch and the
closure certificate's PDF is parsed back for it.
"""
from __future__ import annotations

import io
import re

import pypdf
import zxingcpp

from governance import services as sv
from governance.paper_pdf import Paper, Sheet, build_pdf, certificate_pdf
from governance.rules import paper as rules
from governance.rules.evidence import SUS_ITEMS
from tests.test_paper import SCAN, sheets_of
from tests.world import VERY, World


def qr_texts(pdf: bytes) -> list[str]:
    """The text of every QR code printed in the PDF, page by page, decoded from its image."""
    texts = []
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        [image] = page.images
        [code] = zxingcpp.read_barcodes(image.image)
        assert code.format == zxingcpp.BarcodeFormat.QRCode
        texts.append(code.text)
    return texts


def test_a_paper_round_through_the_printed_pdf(world: World) -> None:
    w = world
    _, pilot = w.pilot_in_use()
    w.pass_window()
    rnd = sv.open_survey_round(w.uow, w.commissioner, pilot)
    sv.submit_survey_response(w.uow, w.members[5], rnd, answer=VERY)  # online: gets no sheet
    printed = sv.print_paper_batch(w.uow, w.facilitator, round_id=rnd)
    reader = pypdf.PdfReader(io.BytesIO(printed.pdf))
    assert len(reader.pages) == printed.sheets == 5
    for page in reader.pages:
        words = " ".join(page.extract_text().split())
        assert "How would you feel if you could no longer use Referral letter assistant?" in words
        assert all(" ".join(item.split()) in words for item in SUS_ITEMS[:3])
        assert "What would you use instead?" in words
    codes = sheets_of(printed.pdf)
    payloads = qr_texts(printed.pdf)
    assert payloads == [rules.qr_payload("survey_round", rnd, codes[f"Member {i}"]) for i in range(1, 6)]
    for payload in payloads[:3]:  # entered by scanning: the QR's text goes into the code field
        sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=payload, answer=VERY)
    sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=payloads[3], spoiled=True)
    cert = sv.attest_paper_batch(w.uow, w.steering, printed.batch_id, returned=4, scan=SCAN,
                                 scan_filename="sheets.jpg", note="Member 5 was on leave.")
    lines = [("Sheets printed", str(cert["issued"])), ("Sheets returned", str(cert["returned"])),
             ("Mismatch", cert["mismatch"]), ("Scan or photo", cert["scan_sha256"])]
    text = " ".join(pypdf.PdfReader(io.BytesIO(certificate_pdf("Round 1", lines))).pages[0].extract_text().split())
    assert "Closure certificate - Round 1" in text
    assert "1 of the 5 sheets printed was not returned. Member 5 was on leave." in text
    assert cert["scan_sha256"] in text


def test_a_ballot_sheet_carries_its_vote_and_a_secret_one_names_nobody_on_the_sheet() -> None:
    sheets = [Sheet("Member 1", "7KQ2M-9XD3R", rules.qr_payload("vote", 12, "7KQ2M-9XD3R"))]
    pdf = build_pdf(Paper("Ballot sheet - Ratify problem", "Ratify the problem 'Re-keying'?", ("Approve", "Reject"),
                          secret=True), sheets)
    words = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert re.search(r"For Member 1 - tear off this strip", words)  # the strip, torn off before voting
    assert "this sheet names nobody" in words and "Approve" in words and "Reject" in words
    assert qr_texts(pdf) == ["PEG1;vote=12;sheet=7KQ2M-9XD3R"]
    assert rules.normalise_code(qr_texts(pdf)[0]) == "7KQ2M-9XD3R"
