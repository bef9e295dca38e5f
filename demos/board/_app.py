"""The board app: three columns of cards; every side effect goes through airlock.

Effects, all enqueued deep in widget and app handlers and released once per tick:
- ``save`` the board to JSON (``_key="save"``: one write per tick, however many moves; only
  a change of the board saves),
- a toast (``notify``) per move, and a status-line refresh (``_key="status"``),
- a sync event per move/add to the loopback UDP server, through an async ``airlock.batch``
  (one datagram per tick). ``o`` toggles "offline": a policy that drops network effects.

Enter (or a click) moves the focused card to the next column; the footer says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Static

import airlock
from airlock_textual import AirlockApp

from ._store import COLUMNS, BoardStore
from ._sync import SyncClient, SyncServer

__all__ = ["BoardApp", "Card", "Offline", "plural"]


def plural(count: int, word: str) -> str:
    """``1 event``, ``2 events``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


class Offline(airlock.Policy):
    """While ``on``, network effects are dropped at flush (the inspector shows them dropped)."""

    def __init__(self) -> None:
        self.on = False

    def allows(self, intent: airlock.Intent) -> bool:
        return not (self.on and getattr(intent.task, "airlock_phase", None) == "network")


class Card(Static, can_focus=True):
    """A card; Enter (or a click) moves it to the next column."""

    BINDINGS = [Binding("enter", "move", "Move card (or click it)")]  # noqa: RUF012

    class Moved(Message):
        def __init__(self, card: Card) -> None:
            super().__init__()
            self.card = card

    def __init__(self, title: str) -> None:
        super().__init__(title, classes="card")
        self.title = title

    def on_click(self) -> None:
        self.move()

    def action_move(self) -> None:
        self.move()

    def move(self) -> None:
        board: BoardApp = self.app  # type: ignore[assignment]
        airlock.enqueue(board.sync_events, {"op": "move", "card": self.title})
        self.post_message(self.Moved(self))


class BoardApp(AirlockApp, App[None]):
    """A kanban board whose saves, toasts and network sends are airlock effects."""

    TITLE = "airlock board"
    AIRLOCK_INSPECTOR = True
    AIRLOCK_ORDER_BY = airlock.by_phase("save", "ui", "network")  # status shows the save
    #: no handler here waits on anything slow, so a tick ends only when the app goes idle: the
    #: same keys make the same ticks on any machine (a starved one split the scripted "move
    #: all" tick at the default 500 ms, and the screenshot showed five saves instead of four)
    AIRLOCK_MAX_TICK_MS = None
    BINDINGS = [  # noqa: RUF012 (Textual's convention)
        ("a", "add_card", "Add card"),
        ("m", "move_all", "Move all todo"),
        ("o", "toggle_offline", "Offline"),
        ("q", "quit", "Quit"),
    ]
    CSS = """
    Horizontal { height: 1fr; }
    .column { width: 1fr; border: round $primary; padding: 0 1; }
    .card { border: tall $secondary; padding: 0 1; margin-bottom: 1; }
    .card:focus { border: tall $accent; }
    #status { height: 1; padding: 0 1; background: $boost; }
    """

    def __init__(self, data_dir: Path, **kwargs: Any) -> None:
        self.offline = Offline()
        super().__init__(airlock_policy=self.offline, **kwargs)
        self.store = BoardStore(data_dir / "board.json")
        self.board = self.store.load()
        self.server = SyncServer(on_receive=self._on_sync_received)
        self.client = SyncClient(self.server)
        self.sync_events = airlock.batch(phase="network")(self.client.send)
        self.added = 0

    def _on_sync_received(self) -> None:
        self.call_later(self.refresh_status)  # a UDP callback is no handler: go through one

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            for column in COLUMNS:
                # columns take no focus: the first card has it, and the footer shows Enter
                with VerticalScroll(id=column, classes="column", can_focus=False) as scroll:
                    scroll.border_title = column.upper()
                    for title in self.board[column]:
                        yield Card(title)
        yield Static(id="status")
        yield Footer()

    async def on_mount(self) -> None:
        await self.server.start()
        self.refresh_status()

    def on_unmount(self) -> None:
        self.client.close()
        self.server.close()

    def on_card_moved(self, message: Card.Moved) -> None:
        card = message.card
        column = next(c for c in COLUMNS if card.title in self.board[c])
        if column == COLUMNS[-1]:
            return
        target = COLUMNS[COLUMNS.index(column) + 1]
        self.board[column].remove(card.title)
        self.board[target].append(card.title)
        had_focus = card.has_focus
        card.remove()
        moved = Card(card.title)
        self.query_one(f"#{target}").mount(moved)
        if had_focus:  # Enter again moves it further; the footer keeps showing how
            self.call_after_refresh(moved.focus)
        self.changed(f"{card.title} → {target}")

    def action_add_card(self) -> None:
        self.added += 1
        title = f"New card {self.added}"
        self.board["todo"].append(title)
        self.query_one("#todo").mount(Card(title))
        airlock.enqueue(self.sync_events, {"op": "add", "card": title})
        self.changed(f"added {title}")

    def action_move_all(self) -> None:
        for card in list(self.query_one("#todo").query(Card)):
            card.move()

    def action_toggle_offline(self) -> None:
        self.offline.on = not self.offline.on
        self.announce("offline" if self.offline.on else "online")  # the board did not change

    def announce(self, what: str) -> None:
        """Enqueue a toast and one status refresh."""
        airlock.enqueue(self.notify, what, _dispatch_options={"phase": "ui"})
        airlock.enqueue(self.refresh_status, _key="status", _dispatch_options={"phase": "ui"})

    def changed(self, what: str) -> None:
        """Enqueue what every change of the board needs: a toast, one status refresh, one save."""
        self.announce(what)
        snapshot = {column: list(cards) for column, cards in self.board.items()}
        airlock.enqueue(self.store.save, snapshot, _key="save", _dispatch_options={"phase": "save"})

    def refresh_status(self) -> None:
        server = self.server
        self.query_one("#status", Static).update(
            f"{plural(self.store.saves, 'save')} · server got {plural(server.events, 'event')} "
            f"in {plural(server.datagrams, 'datagram')} · "
            f"{'OFFLINE' if self.offline.on else 'online'}"
        )
