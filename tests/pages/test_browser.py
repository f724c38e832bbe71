"""The verifier and issuer pages in a real browser: Debian's Chromium, headless, driven by Playwright.

One browser for the module, one node (``scene``) with every credential shown. Each scenario
saves a screenshot in the run's screenshots folder (see conftest.py) and is checked with
axe-core against the WCAG 2.0-2.2 A and AA rules. The script-injection scenario runs with the
Content-Security-Policy bypassed, so it shows that escaping alone keeps the page inert; the
others run under the policy and fail on any violation of it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, AsyncIterator

import pytest
import pytest_asyncio

try:
    from playwright.async_api import expect
except ImportError:  # the chromium fixture fails (CI) or skips with the reason
    expect = None
from scene import IMG_LEARNER, JS_URL, RLO_NAME, SCRIPT_TITLE, Scene, copied

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(chromium: str, chromium_args: list[str]) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=chromium, args=chromium_args)
        try:
            yield b
        finally:
            await b.close()


class Tab:
    """A page in a fresh browser context, recording what would mean trouble."""

    def __init__(self, page: Any, scene: Scene, shots: Path) -> None:
        self.page, self.scene, self.shots = page, scene, shots
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.console_errors.append(str(e)))

    async def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()

    async def verify(self, document: Any) -> None:
        await self.page.goto(self.scene.url + "/verify")
        await self.page.fill("#document", json.dumps(document, indent=2))
        await self.page.click("button[type=submit]")
        await self.page.wait_for_selector("#result")

    async def verdict(self) -> str:
        return await self.page.locator("#result-title").inner_text()

    async def shot(self, name: str, element: Any = None, *, height: int = 1800) -> Path:
        """A screenshot of ``element``, or of the page's top ``height`` pixels (the verdict and
        the first card: what the scenario is about, and a file small enough for the docs)."""
        path = self.shots / f"{name}.png"
        if element is not None:
            await element.screenshot(path=str(path))
        else:
            full = await self.page.evaluate("document.documentElement.scrollHeight")
            width = self.page.viewport_size["width"]
            await self.page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": min(full, height)})
        assert path.stat().st_size > 5_000
        return path

    async def accessible(self) -> None:
        from axe_playwright_python.async_playwright import Axe

        results = await Axe().run(self.page, options={"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]})
        assert results.violations_count == 0, results.generate_report()


@pytest_asyncio.fixture(loop_scope="module")
async def tab(browser: Any, scene: Scene, screenshots: Path, request: pytest.FixtureRequest) -> AsyncIterator[Tab]:
    bypass = request.node.get_closest_marker("bypass_csp") is not None
    viewport = PHONE if request.node.get_closest_marker("phone") else DESKTOP
    context = await browser.new_context(viewport=viewport, bypass_csp=bypass, java_script_enabled=True)
    try:
        t = Tab(await context.new_page(), scene, screenshots)
        yield t
        assert t.dialogs == [], t.dialogs
        if not bypass:
            assert not [e for e in t.console_errors if "Content Security Policy" in e], t.console_errors
    finally:
        await context.close()


async def test_a_valid_micro_credential_shows_verified_and_all_eleven_elements(tab: Tab) -> None:
    await tab.verify(tab.scene.valid)
    assert await tab.verdict() == "✓ Verified"
    page = tab.page
    rows = page.locator("article[data-card='1'] dl.elements").first.locator("div.element")
    assert await rows.count() == 11
    shown = {await r.get_attribute("data-element"): await r.inner_text() for r in await rows.all()}
    expected = {
        "a": "Ana Andromeda", "b": "Data Science Fundamentals", "c": "Netherlands (NL)", "d": "University of Example",
        "e": "UTC", "f": "Apply linear regression to real data", "g": "5 ECTS credits", "h": "EQF level 6",
        "i": "written examination", "j": "Blended (online and on site)", "k": "Institutional accreditation by NVAO",
    }
    for key, value in expected.items():
        assert value in shown[key], (key, shown[key])
        assert "Missing" not in shown[key]
    esco = page.get_by_role("link", name=tab.scene.valid["credentialSubject"]["achievement"]["alignment"][0]["targetUrl"])
    assert await esco.count() == 1
    assert await page.locator("text=All eleven mandatory elements are present.").is_visible()
    # The result took the keyboard focus (the form posts to /verify#result).
    assert await page.evaluate("document.activeElement && document.activeElement.id") == "result"
    await tab.accessible()
    await tab.shot("01-valid-micro-credential")


async def test_a_tampered_credential_shows_not_verified_naming_the_proof(tab: Tab) -> None:
    await tab.verify(tab.scene.tampered)
    assert await tab.verdict() == "✗ Not verified"
    why = await tab.page.locator(".verdict ul.reasons").inner_text()
    assert "The signature (proof) does not verify" in why
    row = tab.page.locator("tr[data-check='proof']")
    assert "Failed" in await row.inner_text()
    await tab.accessible()
    await tab.shot("02-tampered")


async def test_a_revoked_credential_shows_revoked(tab: Tab) -> None:
    await tab.verify(tab.scene.revoked)
    assert await tab.verdict() == "✗ Revoked"
    assert "The issuer has revoked this credential." in await tab.page.locator(".verdict").inner_text()
    await tab.accessible()
    await tab.shot("03-revoked")


async def test_an_accredited_issuers_chain_is_shown(tab: Tab) -> None:
    await tab.verify(tab.scene.valid)
    section = tab.page.locator("section[data-accreditation='accredited']")
    text = await section.inner_text()
    dids = tab.scene.dids
    assert "Accreditation of the issuer: Accredited" in text
    links = await section.locator("ol.chain > li").all_inner_texts()
    assert links[0].startswith(f"{dids['ministry']} accredits {dids['agency']} (to accredit others)")
    assert links[1].startswith(f"{dids['agency']} accredits {dids['uni']} (to issue credentials)")
    assert "EQF levels 5, 6" in links[1] and "Expires 30 June 2035" in links[1] and "Not revoked" in links[1]
    await tab.accessible()
    await tab.shot("04-accreditation-chain", section)


async def test_a_stack_with_a_missing_part_names_it(tab: Tab) -> None:
    scene = tab.scene
    vp = await scene.presentation([scene.stack, scene.parts[0], scene.parts[2]])
    await tab.verify(vp)
    assert await tab.verdict() == "✗ Not verified"
    missing = scene.parts[1]["id"]
    row = tab.page.locator(f"tr[data-part='{missing}']")
    assert "Missing: not in this presentation" in await row.inner_text()
    assert missing in await tab.page.locator(".verdict").first.inner_text()
    assert await tab.page.locator("article.card").count() == 3
    await tab.accessible()
    await tab.shot("05-stack-missing-part", height=2000)


async def test_a_complete_stack_shows_its_parts_and_ects_per_level(tab: Tab) -> None:
    scene = tab.scene
    await tab.verify(await scene.presentation([scene.stack, *scene.parts]))
    assert await tab.verdict() == "✓ Verified"
    levels = await tab.page.locator("table.levels").inner_text()
    assert "EQF level 5\t2.5" in levels and "EQF level 6\t7.5" in levels and "Total\t10" in levels
    assert await tab.page.locator("table.parts .badge--verified").count() == 3
    await tab.shot("06-stack-complete", tab.page.locator("section[data-stack='holds']"))


# Where each letter of ``word`` is drawn (line top, left edge), in the first text node under
# ``element`` that holds it: the order a reader sees, which inner_text (logical order) is not.
LETTER_POSITIONS = """([element, word]) => {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.data.indexOf(word);
        if (at < 0) continue;
        return [...word].map((_, k) => {
            const r = document.createRange();
            r.setStart(node, at + k);
            r.setEnd(node, at + k + 1);
            const box = r.getBoundingClientRect();
            return [Math.round(box.top), box.left];
        });
    }
    return null;
}"""


async def reads_left_to_right(element: Any, word: str) -> bool:
    at = await element.evaluate("(e, w) => (" + LETTER_POSITIONS + ")([e, w])", word)
    assert at is not None, word
    # Each letter is right of the one before on its line, or on a line further down.
    return all(b[0] > a[0] or (b[0] == a[0] and b[1] > a[1]) for a, b in zip(at, at[1:]))


async def test_a_right_to_left_override_in_a_name_leaves_the_page_in_order(tab: Tab) -> None:
    vc = copied(tab.scene.valid, issuer_name=RLO_NAME, achievement_id="https://courses.example.org/ds-101")
    await tab.verify(vc)
    awarded = tab.page.locator("article[data-card='1'] p.awarded")
    # Obeyed, the override drew "Awarded by (LN) sdnalrehteN ,University of Example".
    for words in ("Awarded by", "name stated by the issuer, not checked", "Netherlands (NL)"):
        assert await reads_left_to_right(awarded, words), words
    shown = "Awarded by [U+202E]elpmaxE fo ytisrevinU (name stated by the issuer, not checked), Netherlands (NL)"
    assert await awarded.inner_text() == shown
    note = tab.page.locator("article[data-card='1'] [data-direction-controls]")
    assert await note.is_visible() and "direction-control characters" in await note.inner_text()
    await tab.accessible()
    await tab.shot("13-direction-override", tab.page.locator("article[data-card='1'] header"))


@pytest.mark.bypass_csp
async def test_the_script_injection_credential_executes_nothing(tab: Tab) -> None:
    # The policy is bypassed here: only escaping stands between these fields and the page.
    await tab.verify(tab.scene.hostile)
    page = tab.page
    assert await tab.verdict() == "✓ Verified"
    assert await page.evaluate("window.__pwned === undefined")
    assert await page.evaluate("document.querySelectorAll('script').length") == 1
    assert await page.evaluate("document.querySelectorAll('img, iframe, svg, object, embed, style').length") == 0
    hrefs = await page.evaluate("[...document.querySelectorAll('[href]')].map(e => e.getAttribute('href'))")
    assert not [h for h in hrefs if h.strip().lower().startswith("javascript:")], hrefs
    body = await page.locator("article").inner_text()
    assert SCRIPT_TITLE in body and IMG_LEARNER in body and JS_URL in body
    # Clicking what looks like the outcome link does nothing: it is text.
    assert await page.locator("a").filter(has_text=JS_URL).count() == 0
    await tab.shot("07-script-injection")


async def test_a_file_chosen_or_dropped_is_read_into_the_form(tab: Tab, tmp_path: Path) -> None:
    page = tab.page
    await page.goto(tab.scene.url + "/verify")
    assert await page.locator("#drop-zone .drop-text").is_visible()
    good = tmp_path / "credential.json"
    good.write_text(json.dumps(tab.scene.valid))
    await page.set_input_files("#file", str(good))
    await expect(page.locator("#document")).to_have_value(re.compile(r"^\{.*Ana Andromeda", re.S))
    await expect(page.locator("#file-message")).to_contain_text("credential.json")
    # Dropping a file onto the zone does the same (the DataTransfer is built in the page).
    await page.fill("#document", "")
    await page.evaluate(
        """text => {
            const dt = new DataTransfer();
            dt.items.add(new File([text], 'dropped.json', {type: 'application/json'}));
            document.getElementById('drop-zone').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
        }""",
        json.dumps(tab.scene.revoked),
    )
    await expect(page.locator("#document")).to_have_value(re.compile("Ben Bellatrix"))
    await page.click("button[type=submit]")
    await page.wait_for_selector("#result")
    assert await tab.verdict() == "✗ Revoked"
    # A file over the node's limit is refused before it is sent, with the reason.
    await page.goto(tab.scene.url + "/verify")
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps({"padding": "x" * (tab.scene.core.config.max_body_bytes + 1)}))
    await page.set_input_files("#file", str(huge))
    await expect(page.locator("#file-message")).to_contain_text("huge.json is too large")
    await expect(page.locator("#file-message")).to_contain_text("1.00 MiB, and this node accepts at most 1 MiB")
    assert await page.locator("#document").input_value() == ""
    await tab.shot("08-file-too-large")


async def test_the_script_refuses_what_the_node_would_and_the_refusal_stays(tab: Tab, tmp_path: Path) -> None:
    page, limit = tab.page, tab.scene.core.config.max_body_bytes
    await page.goto(tab.scene.url + "/verify")
    # Under the limit as a file, over it as the form sends it: each LF goes as CRLF.
    lines = (limit - 10_000) // 8
    near = tmp_path / "near-limit.json"
    near.write_text('{"padding": [\n' + '  "xx",\n' * lines + '  "x"]}\n')
    assert near.stat().st_size < limit
    await page.set_input_files("#file", str(near))
    await expect(page.locator("#file-message")).to_contain_text("near-limit.json is too large: as this form sends it")
    assert await page.locator("#document").input_value() == ""
    # Verify after the refusal: nothing is sent, and the reason is still there (not "Nothing to verify").
    await page.click("button[type=submit]")
    await page.wait_for_timeout(300)
    assert page.url.endswith("/verify") and await page.locator("#result").count() == 0
    await expect(page.locator("#file-message")).to_contain_text("near-limit.json is too large")
    await tab.shot("08b-file-near-limit-refused")
    # A file that is not UTF-8 is refused in the script with the node's own sentence.
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00\x81binary\x00")
    await page.set_input_files("#file", str(binary))
    await expect(page.locator("#file-message")).to_have_text("The file is not text (UTF-8), so it cannot be a JSON credential.")
    assert await page.locator("#document").input_value() == ""
    # Typing in the box ends the refusal: Verify sends what was typed.
    await page.fill("#document", "[1]")
    await page.click("button[type=submit]")
    await page.wait_for_selector("#result")
    assert "This JSON is a list" in await page.locator("#result").inner_text()


async def test_malformed_input_gets_a_clear_message(tab: Tab) -> None:
    page = tab.page
    await page.goto(tab.scene.url + "/verify")
    await page.fill("#document", '{"credentialSubject": ')
    await page.click("button[type=submit]")
    await page.wait_for_selector("#result")
    assert "This is not valid JSON" in await page.locator("#result[role='alert']").inner_text()
    assert await page.locator("#document").input_value() == '{"credentialSubject": '
    await tab.accessible()
    await tab.shot("09-malformed-input")


async def test_the_page_is_usable_with_the_keyboard_alone(tab: Tab) -> None:
    page = tab.page
    await page.goto(tab.scene.url + "/verify")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip"
    await page.keyboard.press("Enter")
    order = []
    for _ in range(8):
        await page.keyboard.press("Tab")
        order.append(await page.evaluate("document.activeElement.id || document.activeElement.tagName"))
    assert order.index("document") < order.index("file") < order.index("SUMMARY") < order.index("BUTTON"), order
    await page.focus("#document")
    await page.keyboard.insert_text(json.dumps(tab.scene.suspended))
    while await page.evaluate("document.activeElement.tagName") != "BUTTON":
        await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#result")
    assert await tab.verdict() == "! Suspended"


@pytest.mark.phone
async def test_on_a_phone_the_result_fits_the_screen(tab: Tab) -> None:
    await tab.verify(tab.scene.valid)
    width = await tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    await tab.accessible()
    await tab.shot("10-phone")


# Every word (a hyphen may end a line) of the table cells that hold words (not the detail column, whose DIDs and URLs may
# break anywhere, nor code) that the browser drew over more than one line.
BROKEN_WORDS = """() => {
    const broken = [];
    const cells = document.querySelectorAll('table th, table td:not(.message)');
    for (const cell of cells) {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (node.parentElement.closest('code')) continue;
            for (const m of node.data.matchAll(/[^\\s-]+/g)) {
                const range = document.createRange();
                range.setStart(node, m.index);
                range.setEnd(node, m.index + m[0].length);
                const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
                if (tops.size > 1) broken.push(m[0]);
            }
        }
    }
    return broken;
}"""


async def test_at_375_px_table_words_stay_whole_and_nothing_scrolls_sideways(tab: Tab) -> None:
    await tab.page.set_viewport_size({"width": 375, "height": 812})
    scene = tab.scene
    for name, document in (("valid", scene.valid), ("stack", await scene.presentation([scene.stack, *scene.parts]))):
        await tab.verify(document)
        assert await tab.page.locator("table.checks").count() > 0
        assert await tab.page.evaluate(BROKEN_WORDS) == [], name
        assert await tab.page.evaluate("document.documentElement.scrollWidth") <= 375, name
        await tab.shot(f"10b-phone-375-{name}", tab.page.locator("table.checks").last)
    await tab.shot("10c-phone-375-stack-parts", tab.page.locator("table.parts").first)


async def test_printing_shows_the_result_without_the_form(tab: Tab) -> None:
    await tab.verify(tab.scene.valid)
    await tab.page.emulate_media(media="print")
    assert not await tab.page.locator("#verify-form").is_visible()
    assert await tab.page.locator("#result-title").is_visible()
    pdf = await tab.page.pdf()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


async def test_issuer_and_achievement_pages(tab: Tab) -> None:
    page = tab.page
    await page.goto(tab.scene.url + "/")
    assert await page.locator("section[data-issuer='uni'] code").first.inner_text() == tab.scene.dids["uni"]
    await tab.accessible()
    await tab.shot("11-issuers")
    await page.get_by_role("link", name="Data Science Fundamentals").click()
    await page.wait_for_selector("#achievement-title")
    assert page.url.endswith("/issuers/uni/achievements/ds-101")
    text = await page.locator("article").inner_text()
    assert "Institutional accreditation by NVAO" in text and "5 ECTS credits" in text
    await tab.accessible()
    await tab.shot("12-achievement")
