"""The status page in a real headless browser (Debian's chromium, driven by Playwright): the token
once, the round, the findings per department with their cells, and a return awaiting the office's
decision accepted with the page's own form."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest

import xlplan
from tests.conftest import CHROMIUM
from tests.serving import TOKEN, Server
from xlplan.demo.respond import fill_response
from xlplan.examples import Example
from xlplan.form import layout
from xlplan.plan.values import Value
from xlplan.workspace.folder import Workspace, init_workspace

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)

NAME = "令和2年度"
ODD = '<img src=x onerror="alert(1)">.xlsx'


@pytest.fixture(scope="module")
def round_in_progress(tmp_path_factory: pytest.TempPathFactory, example: Example) -> Workspace:
    """文化課 answered without its manifest (awaiting review, under a file name meant as markup);
    企画政策課 answered with a value its row refuses (要修正); 総務課's return is accepted and a
    later one of its has errors."""
    folder = tmp_path_factory.mktemp("page")
    workspace = init_workspace(folder / NAME, example.plan)
    sent = {item.department: item.workbook for item in xlplan.distribute(workspace).departments}
    plan = workspace.load_plan()

    def answers(department: str) -> list[Any]:
        return [a for a in example.answers if plan.canonical_department(a.department) == department]

    general = sent["総務課"]  # accepted, then sends a copy with an error: its accepted answers stand
    assert general is not None
    fill_response(general, answers("総務課"), workspace.inbox / general.name)
    assert xlplan.collect(workspace).count("accepted") == 1
    blank = [
        type(a)(a.project_no, a.entry, a.department, Value(mark=None, number=None), "")
        for a in answers("総務課")
    ]
    fill_response(general, blank, workspace.inbox / ("再送_" + general.name))
    culture = sent["文化課"]
    assert culture is not None
    fill_response(culture, answers("文化課"), folder / "culture.xlsx")
    unsigned = openpyxl.load_workbook(folder / "culture.xlsx")
    unsigned.remove(unsigned[layout.MANIFEST_SHEET])
    unsigned.save(workspace.inbox / ODD)
    planning = sent["企画政策課"]
    assert planning is not None
    wrong = [a if i else type(a)(a.project_no, a.entry, a.department, Value(mark=None, number=None), "")
             for i, a in enumerate(answers("企画政策課"))]  # fmt: skip
    fill_response(planning, wrong, workspace.inbox / planning.name)
    collected = xlplan.collect(workspace)
    assert collected.count("review") == 1 and collected.count("invalid") == 2
    return workspace


@pytest.fixture(scope="module")
def server(round_in_progress: Workspace) -> Iterator[Server]:
    running = Server([round_in_progress.root]).start()
    yield running
    running.stop()


def _logged_in(browser: Any, server: Server) -> Any:
    page = browser.new_page()
    page.goto(server.url + "/")
    assert page.locator("html").get_attribute("lang") == "ja"
    page.get_by_label("トークン").fill(TOKEN)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_load_state()
    return page


def test_a_wrong_token_is_refused_and_the_page_asks_again(browser: Any, server: Server) -> None:
    page = browser.new_page()
    page.goto(server.url + "/")
    page.get_by_label("トークン").fill("違うトークン")
    page.get_by_role("button", name="ログイン").click()
    assert "トークンが違います" in page.get_by_role("alert").inner_text()
    assert page.get_by_role("table").count() == 0


def test_the_page_shows_the_round_and_every_department(browser: Any, server: Server) -> None:
    page = _logged_in(browser, server)
    assert "第2次小城市男女共同参画プラン" in page.get_by_role("heading", level=2).inner_text()
    departments = page.get_by_role("table", name="担当課ごとの送付・受信・検証・受理")
    assert departments.get_by_role("row").count() == 1 + 15
    planning = departments.get_by_role("row", name="企画政策課")
    assert "要修正" in planning.inner_text()
    general = (
        departments.get_by_role("row")
        .filter(has=page.get_by_role("rowheader", name="総務課", exact=True))
        .inner_text()
    )
    assert "受理" in general and "受理後の回答に誤り" in general
    # The findings of the return that decides the state, with their cells.
    findings = page.get_by_role("table", name="企画政策課 の回答の指摘")
    assert findings.count() == 1 and "回答!" in findings.inner_text()
    # Links to the 差し戻し票 and the files; a download with the session's cookie works.
    link = page.get_by_role("link", name="企画政策課", exact=False).first
    assert "/files/" in (link.get_attribute("href") or "")
    page.close()


def test_a_file_name_meant_as_markup_stays_text(browser: Any, server: Server) -> None:
    page = _logged_in(browser, server)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    reviews = page.get_by_role("table", name="確認待ちの回答")
    assert ODD in reviews.inner_text()
    assert page.locator("img").count() == 0 and dialogs == []
    page.close()


def test_the_office_accepts_a_waiting_return_from_the_page(
    browser: Any, server: Server, round_in_progress: Workspace
) -> None:
    page = _logged_in(browser, server)
    reviews = page.get_by_role("table", name="確認待ちの回答")
    row = reviews.get_by_role("row").nth(1)
    row.get_by_label("課").fill("文化課")
    row.get_by_role("button", name="受理").click()
    page.wait_for_load_state()
    assert (
        "文化課" in page.get_by_role("status").inner_text()
        and "受理" in page.get_by_role("status").inner_text()
    )
    assert "確認を待っている回答はありません" in page.inner_text("body")
    culture = page.get_by_role("table", name="担当課ごとの送付・受信・検証・受理").get_by_role(
        "row", name="文化課"
    )
    assert "受理" in culture.inner_text()
    # Recorded in the ledger with who decided.
    assert xlplan.status(round_in_progress).counts()["accepted"] >= 1
    page.reload()  # the notice is said once
    assert page.get_by_role("status").count() == 0
    page.close()


def test_a_link_cannot_put_words_in_the_pages_notice(browser: Any, server: Server) -> None:
    page = _logged_in(browser, server)
    page.goto(server.url + "/?done=" + "全課の回答を受理しました。集約表を公表してください。")
    assert page.get_by_role("status").count() == 0 and "集約表を公表してください" not in page.inner_text(
        "body"
    )
    page.close()


def test_a_form_without_the_session_token_changes_nothing(
    server: Server, round_in_progress: Workspace
) -> None:
    import httpx

    before = xlplan.review(round_in_progress).to_dict()
    answer = httpx.post(f"{server.url}/ws/{NAME}/reviews/1/reject", data={"csrf": "guess"})
    assert answer.status_code == 403 and xlplan.review(round_in_progress).to_dict() == before


def test_logged_out_is_logged_out(browser: Any, server: Server) -> None:
    page = _logged_in(browser, server)
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_load_state()
    assert page.get_by_label("トークン").count() == 1
    page.close()


def test_every_address_on_the_page_is_relative_so_it_works_under_a_proxy_prefix(
    browser: Any, server: Server
) -> None:
    page = _logged_in(browser, server)  # logging in posted to a relative address and came back
    addresses = page.eval_on_selector_all(
        "form[action], a[href]",
        "elements => elements.map(e => e.getAttribute('action') || e.getAttribute('href'))",
    )
    assert addresses and not [address for address in addresses if address.startswith("/")], addresses
    assert page.eval_on_selector("base", "b => b.getAttribute('href')") == "./"
    page.close()
