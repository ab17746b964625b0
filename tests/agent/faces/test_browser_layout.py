"""The page on a laptop (1400x900) and a phone (390x844) with a 40-trial study, in headless Chromium: every
panel has room, each plot's drawing fits its box, the buttons and the chat's Send stay reachable, a slow plot
answer does not replace the tab picked since, the trial view closes with Escape, the table sorts and filters,
and downloads work; a Population Based Training study (hand-built, tests/agent/faces/pbt_history.py) shows
its population plot and schedule, which the other study does not. Boxes are measured, not guessed;
screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.page_screenshots import ARGS, CHROMIUM, build_study, serve
from tests.agent.faces.pbt_history import BEST, pbt_study
from tests.conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "browser"
LAPTOP, PHONE = (1400, 900), (390, 844)
SIZES = [pytest.param(LAPTOP, id="1400x900"), pytest.param(PHONE, id="390x844")]
PBT = "pbt-demo"  # the Population Based Training study beside the 40-trial one

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: .ci/run must apt-get install chromium")
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    root = tmp_path_factory.mktemp("layout") / "studies"
    study = build_study(root, trials=40)
    pbt_study(root, PBT)
    with serve(root) as link:
        yield link, study.name


@pytest.fixture(scope="module")
def browser(served: tuple[str, str]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page_at(browser: Any, served: tuple[str, str]) -> Iterator[Any]:
    """``page_at((w, h))``: a fresh page of that size showing the 40-trial study; no console errors allowed."""
    from playwright.sync_api import expect

    link, sid = served
    pages: list[Any] = []
    errors: list[str] = []

    def open_at(size: tuple[int, int]) -> Any:
        page = browser.new_page(viewport={"width": size[0], "height": size[1]}, accept_downloads=True)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.set_default_timeout(20_000)
        page.goto(f"{link}#study={sid}")
        expect(page.locator("#trials tbody tr")).to_have_count(40)
        expect(page.locator("#plot svg")).to_be_visible()
        pages.append(page)
        return page

    yield open_at
    for page in pages:
        page.close()
    assert errors == [], errors


def rect(page: Any, selector: str) -> dict[str, float]:
    # The page redraws its plot on every refresh (innerHTML replaced, main.js refresh()): an element measured in
    # that instant is detached and has no box, so measure again for up to 5 s before calling it not displayed.
    for _ in range(50):
        box = page.locator(selector).first.bounding_box()
        if box is not None:
            return dict(box)
        page.wait_for_timeout(100)
    raise AssertionError(f"{selector} is not displayed")


def plot_fits(page: Any) -> None:
    """The plot's drawing is inside its box, at its own aspect (not squeezed, not scrolled)."""
    plot, svg = rect(page, "#plot"), rect(page, "#plot svg")
    assert svg["width"] > 300 and svg["height"] > 100
    assert plot["x"] - 1 <= svg["x"] and svg["x"] + svg["width"] <= plot["x"] + plot["width"] + 1
    assert plot["y"] - 1 <= svg["y"] and svg["y"] + svg["height"] <= plot["y"] + plot["height"] + 1
    view_box = page.locator("#plot svg").get_attribute("viewBox").split()
    aspect = float(view_box[3]) / float(view_box[2])
    assert abs(svg["height"] - svg["width"] * aspect) < 2, "the drawing is squeezed"
    scroll = page.evaluate(
        "() => { const p = document.querySelector('#plot');"
        " return [p.scrollHeight - p.clientHeight, p.scrollWidth - p.clientWidth]; }"
    )
    assert scroll[0] <= 1 and scroll[1] <= 1, "the plot scrolls inside its box"


def fully_visible(page: Any, selector: str, size: tuple[int, int]) -> None:
    page.locator(selector).first.scroll_into_view_if_needed()
    box = rect(page, selector)
    assert box["width"] > 0 and box["height"] > 0, selector
    assert box["x"] >= 0 and box["x"] + box["width"] <= size[0] + 0.5, (selector, box)
    assert box["y"] >= 0 and box["y"] + box["height"] <= size[1] + 0.5, (selector, box)


@pytest.mark.parametrize("size", SIZES)
def test_every_panel_has_room_and_each_plot_fits_its_box(page_at: Any, size: tuple[int, int]) -> None:
    from playwright.sync_api import expect

    page = page_at(size)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if size == PHONE:
        for panel, inner in (("left", "#studies"), ("right", "#chat-input"), ("center", "#summary")):
            page.click(f"#panels button[data-panel='{panel}']")
            assert rect(page, f"#{panel}")["width"] >= size[0] - 20, f"the {panel} panel has no room"
            expect(page.locator(inner)).to_be_visible()
            for other in {"left", "center", "right"} - {panel}:  # one panel at a time
                expect(page.locator(f"#{other}")).to_be_hidden()
    else:
        for panel in ("#left", "#center", "#right"):
            assert rect(page, panel)["width"] >= 200, f"{panel} has no room"
    for selector in ("#summary", "#btn-resume", "#btn-pause", "#btn-stop", "button[data-export='csv']"):
        fully_visible(page, selector, size)
    for kind in ("history", "importance", "parallel", "slice", "contour", "edf", "timeline", "curves"):
        page.click(f"#tabs button[data-kind='{kind}']")
        # fANOVA and the contour fit models on the server: seconds on a loaded 2-core machine
        expect(page.locator("#plot")).to_have_attribute("data-kind", kind, timeout=30_000)
        plot_fits(page)
    if size == LAPTOP:  # the table scrolls in its own box; the plot above it keeps its size
        table = page.evaluate(
            "() => { const t = document.querySelector('#trials-scroll'); return [t.scrollHeight, t.clientHeight]; }"
        )
        assert table[0] > table[1] >= 150
    page.screenshot(path=str(ARTIFACTS / f"layout-{size[0]}x{size[1]}.png"))
    if size == PHONE:
        page.click("#panels button[data-panel='right']")
        fully_visible(page, "#chat-send", size)
        page.click("#panels button[data-panel='center']")
    page.locator("#trials tbody tr[data-trial='5']").click()  # a tap reaches the row (nothing lies over it)
    expect(page.locator("#detail")).to_be_visible()
    expect(page.locator("#detail-title")).to_have_text(
        "trial #5 · " + page.locator("#trials tbody tr[data-trial='5'] td").nth(1).inner_text()
    )


@pytest.mark.parametrize("size", SIZES)
def test_the_trial_view_shows_every_param_and_closes_with_escape(page_at: Any, size: tuple[int, int]) -> None:
    from playwright.sync_api import expect

    page = page_at(size)
    row = page.locator("#trials tbody tr[data-trial='1']")
    row.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#detail")).to_be_visible()
    expect(page.locator("#detail-params tr")).to_have_count(5)
    overflow = page.evaluate(
        "() => { const d = document.querySelector('#detail'); return d.scrollWidth - d.clientWidth; }"
    )
    assert overflow <= 1, "the trial view cuts its content at the right"
    detail = rect(page, "#detail")
    assert detail["x"] >= 0 and detail["x"] + detail["width"] <= size[0]
    expect(page.locator("#detail a", has_text="stdout.log")).to_have_count(1)  # the full log
    page.keyboard.press("Escape")
    expect(page.locator("#detail")).to_be_hidden()
    assert page.evaluate("() => document.activeElement.dataset.trial") == "1"  # focus is back on the row


@pytest.mark.parametrize("size", SIZES)
def test_a_pbt_study_shows_its_population_and_schedule_and_other_studies_do_not(
    page_at: Any, served: tuple[str, str], size: tuple[int, int]
) -> None:
    from playwright.sync_api import expect

    _, sid = served
    page = page_at(size)
    tab = page.locator("#tabs button[data-kind='population']")
    expect(tab).to_be_hidden()  # the 40-trial study has no population
    page.evaluate(f"() => {{ location.hash = 'study={PBT}'; }}")
    expect(page.locator("#summary .big")).to_have_text(PBT)
    expect(tab).to_be_visible()
    tab.click()
    expect(page.locator("#plot")).to_have_attribute("data-kind", "population")
    expect(page.locator("#plot svg")).to_have_attribute("aria-label", "population: score by member and training step")
    expect(page.locator("#plot svg .segment")).to_have_count(8)
    expect(page.locator("#plot svg g.link")).to_have_count(3)
    plot_fits(page)
    expect(page.locator("#schedule-title")).to_contain_text(f"trial #{BEST} (member 2), score = 10")
    expect(page.locator("#schedule tbody tr")).to_have_count(3)
    expect(page.locator("#schedule td.changed")).to_have_count(2)  # lr, at steps 5 and 7
    schedule = rect(page, "#plot-extra")
    assert schedule["x"] >= 0 and schedule["x"] + schedule["width"] <= size[0], "the schedule is wider than the page"
    page.locator("#plot-extra").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"population-{size[0]}x{size[1]}.png"), full_page=True)
    page.locator("#schedule tbody tr[data-trial='3']").click()  # a row opens its trial
    expect(page.locator("#detail-title")).to_contain_text("trial #3")
    page.keyboard.press("Escape")
    page.evaluate(f"() => {{ location.hash = 'study={sid}'; }}")  # back: no population, the history instead
    expect(page.locator("#summary .big")).not_to_have_text(PBT)
    expect(tab).to_be_hidden()
    expect(page.locator("#plot")).to_have_attribute("data-kind", "history")
    expect(page.locator("#plot-extra")).to_be_hidden()


def test_ids_are_unique_controls_are_named_and_a_spent_study_offers_no_resume(page_at: Any) -> None:
    page = page_at(LAPTOP)
    dupes = page.evaluate(
        "() => { const seen = {};"
        " for (const e of document.querySelectorAll('[id]')) seen[e.id] = (seen[e.id] || 0) + 1;"
        " return Object.keys(seen).filter((k) => seen[k] > 1); }"
    )
    assert dupes == []
    unnamed = page.evaluate(
        "() => [...document.querySelectorAll('button, input, select')].filter((e) => !(e.getAttribute('aria-label')"
        " || e.textContent.trim() || (e.id && document.querySelector(`label[for='${e.id}']`)) || e.closest('label')))"
        ".map((e) => e.outerHTML.slice(0, 80))"
    )
    assert unnamed == []
    assert page.locator("#tabs[role='tablist'] button[role='tab'][aria-selected='true']").count() == 1
    resume = page.locator("#btn-resume")
    assert resume.is_disabled() and "budget is spent" in (resume.get_attribute("title") or "")


def test_the_table_sorts_and_filters_and_keeps_params_beside_the_reason(page_at: Any) -> None:
    from playwright.sync_api import expect

    page = page_at(LAPTOP)
    page.click("#trials th button[data-sort='value']")
    values = [float(v) for v in page.locator("#trials tbody tr td:nth-child(3)").all_inner_texts() if v != "-"]
    assert values == sorted(values, reverse=True) and len(values) >= 20
    page.click("#trials th button[data-sort='value']")
    values = [float(v) for v in page.locator("#trials tbody tr td:nth-child(3)").all_inner_texts() if v != "-"]
    assert values == sorted(values)
    page.select_option("#f-state", "failed")
    rows = page.locator("#trials tbody tr")
    assert rows.count() >= 1 and rows.count() == page.locator("#trials tbody td.state-failed").count()
    for cells in (rows.nth(i).locator("td") for i in range(rows.count())):
        texts = cells.all_inner_texts()
        assert all(texts[6:11]) and "NaN" in texts[11], texts  # the five params, then the reason
    expect(page.locator("#trial-count")).to_contain_text(" of 40")
    page.select_option("#f-state", "")
    page.fill("#f-min", "0.92")
    shown = [float(v) for v in page.locator("#trials tbody tr td:nth-child(3)").all_inner_texts()]
    assert shown and min(shown) >= 0.92


def test_a_slow_plot_answer_does_not_replace_the_tab_picked_since(page_at: Any) -> None:
    from playwright.sync_api import expect

    page = page_at(LAPTOP)
    held: list[Any] = []
    page.route("**/plots/importance*", lambda route: held.append(route))
    page.click("#tabs button[data-kind='importance']")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the importance request was not made"
    page.click("#tabs button[data-kind='parallel']")
    expect(page.locator("#plot svg")).to_have_attribute("aria-label", "parallel coordinates (val_acc)")
    page.unroute("**/plots/importance*")
    try:
        held[0].continue_()  # the slow answer arrives now (if the page still waits for it)
    except Exception:  # the page aborted it: also fine
        pass
    page.wait_for_timeout(800)
    expect(page.locator("#plot svg")).to_have_attribute("aria-label", "parallel coordinates (val_acc)")
    expect(page.locator("#tabs button[aria-selected='true']")).to_have_text("parallel")


def test_downloads_and_chat_links(page_at: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = page_at(LAPTOP)
    with page.expect_download() as got:
        page.click("button[data-export='csv']")
    csv = Path(got.value.path()).read_text()
    assert got.value.suggested_filename.endswith(".csv") and csv.startswith("trial,state,value")
    assert csv.count("\n") == 41
    page.click("#tabs button[data-kind='timeline']")
    expect(page.locator("#plot")).to_have_attribute("data-kind", "timeline")
    with page.expect_download() as got:
        page.click("#save-png")
    assert Path(got.value.path()).read_bytes().startswith(b"\x89PNG") and got.value.suggested_filename.endswith(
        "timeline.png"
    )
    with page.expect_download() as got:
        page.click("#save-svg")
    assert Path(got.value.path()).read_text().startswith("<svg")
    page.fill("#chat-input", "/export json")
    page.click("#chat-send")
    link = page.locator("#chat-log a.download", has_text="/export/json")
    expect(link).to_have_count(1)
    with page.expect_download() as got:
        link.click()
    assert got.value.suggested_filename.endswith(".json") and Path(got.value.path()).read_text().startswith("[")
