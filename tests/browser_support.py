"""Helpers of the browser tests: Debian's Chromium as Playwright launches it here, and the chat
page's steps (ask, wait for the streamed answer to finish)."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def last_bot(page):
    return page.locator("#sa-chatbot [data-testid='bot']").last


def ask(page, question: str) -> None:
    count = page.locator("#sa-chatbot [data-testid='bot']").count()
    page.fill("#sa-question textarea", question)
    page.click("#sa-send")
    page.wait_for_function(
        "n => document.querySelectorAll(\"#sa-chatbot [data-testid='bot']\").length > n", arg=count
    )


def wait_finished(page) -> str:
    """The text of the last answer once it has stopped streaming."""
    page.wait_for_function(
        """() => { const b = [...document.querySelectorAll("#sa-chatbot [data-testid='bot']")].pop();
                  return b && !b.innerText.includes('▌') && b.innerText.trim() !== '…'; }"""
    )
    page.wait_for_function(
        "() => document.querySelector('#sa-details')?.innerText.includes('total')"
    )
    return last_bot(page).inner_text()
