"""The debug overlay, checked pixel by pixel on a saved screenshot."""

from __future__ import annotations

from pathlib import Path

import pygame

import airlock
from airlock_pygame import (
    BAR_COLORS,
    FrameHistory,
    FrameRecord,
    GameLoop,
    Overlay,
    SoundPlayer,
    tone,
)
from airlock_pygame._overlay import BACKLOG, ERROR, GRAPH_BG, PANEL

WHITE = (255, 255, 255)


def blend_over_white(rgba: tuple[int, int, int, int]) -> tuple[int, ...]:
    r, g, b, a = rgba
    return tuple(round(c * a / 255 + 255 * (255 - a) / 255) for c in (r, g, b))


def rgb(image: pygame.Surface, x: int, y: int) -> tuple[int, int, int]:
    color = image.get_at((x, y))
    return (color.r, color.g, color.b)


def screenshot(surface: pygame.Surface, path: Path) -> pygame.Surface:
    pygame.image.save(surface, str(path))
    return pygame.image.load(str(path))


def history_of(*records: FrameRecord) -> FrameHistory:
    history = FrameHistory()
    for record in records:
        history.append(record)
    return history


def test_screenshot_shows_panel_text_and_stacked_bars(screen: pygame.Surface,
                                                      tmp_path: Path) -> None:
    history = history_of(
        FrameRecord(0, enqueued=10, dispatched=10),
        FrameRecord(1, enqueued=10, dispatched=5, dropped=5),
        FrameRecord(2, error="RuntimeError('x')"),
    )
    overlay = Overlay(history, visible=True, position=(8, 8))
    screen.fill(WHITE)
    panel = overlay.draw(screen)
    assert panel is not None
    image = screenshot(screen, tmp_path / "overlay.png")
    graph = overlay.graph_rect

    # the translucent panel over the white game, and the game untouched beside it
    expected = blend_over_white(PANEL)
    assert all(abs(a - b) <= 3 for a, b in zip(rgb(image, 9, 9), expected, strict=True))
    assert rgb(image, panel.right + 2, 9) == WHITE
    assert rgb(image, 9, panel.bottom + 2) == WHITE
    # the text lines: bright glyph pixels on the dark panel
    line = overlay.font.get_linesize()
    bright = sum(
        min(rgb(image, x, y)) > 180
        for x in range(panel.x + 6, panel.right - 6) for y in range(panel.y + 4, graph.y)
    )
    assert bright > 100, "no readable text on the overlay"
    assert graph.y >= panel.y + 2 * line
    # the graph: oldest bar left, newest right; empty history columns show the background
    top, bottom = graph.top, graph.bottom - 1
    green, orange = BAR_COLORS["dispatched"], BAR_COLORS["dropped"]
    x0, x1, x2 = graph.right - 6, graph.right - 4, graph.right - 2
    assert rgb(image, x0, bottom) == green and rgb(image, x0, top) == green
    assert rgb(image, x1, bottom) == green and rgb(image, x1, bottom - 19) == green
    assert rgb(image, x1, bottom - 20) == orange and rgb(image, x1, top) == orange
    assert rgb(image, x2, top) == ERROR and rgb(image, x2, bottom) == ERROR
    assert rgb(image, graph.x, graph.centery) == GRAPH_BG
    assert rgb(image, x0 - 1, graph.centery) == GRAPH_BG


def test_hidden_overlay_draws_nothing_and_the_key_toggles_it(screen: pygame.Surface) -> None:
    overlay = Overlay(history_of(FrameRecord(0, dispatched=3)), visible=False)
    screen.fill(WHITE)
    before = pygame.image.tobytes(screen, "RGB")
    assert overlay.draw(screen) is None
    assert pygame.image.tobytes(screen, "RGB") == before
    toggle = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_F3, mod=0, unicode="", scancode=0)
    other = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_a, mod=0, unicode="a", scancode=0)
    assert overlay.handle_event(other) is False and not overlay.visible
    assert overlay.handle_event(toggle) is True and overlay.visible
    assert overlay.draw(screen) is not None
    assert pygame.image.tobytes(screen, "RGB") != before


def test_extra_lines_grow_the_panel(screen: pygame.Surface) -> None:
    overlay = Overlay(FrameHistory(), visible=True)
    plain = overlay.draw(screen)
    overlay.add_line(lambda: "sound  played 3")
    taller = overlay.draw(screen)
    assert plain is not None and taller is not None
    assert taller.height == plain.height + overlay.font.get_linesize()


def test_a_running_loop_graphs_its_real_frames(screen: pygame.Surface, tmp_path: Path) -> None:
    sink: list[int] = []

    def update(dt: float) -> None:
        for n in range(4):
            airlock.enqueue(sink.append, n)

    def draw(surface: pygame.Surface) -> None:
        surface.fill(WHITE)

    loop = GameLoop(screen, update=update, draw=draw, fps=None, overlay=True)
    loop.run(frames=10)
    image = screenshot(screen, tmp_path / "loop.png")
    graph = loop.overlay.graph_rect
    # 9 completed frames are graphed (the 10th is drawn before its own flush): 4 effects + 1
    # present each, all dispatched, so each bar is full-height green
    assert [r.dispatched for r in loop.history] == [5] * 10 and len(sink) == 40
    green = BAR_COLORS["dispatched"]
    for index in range(9):
        x = graph.right - 2 * (index + 1)
        assert rgb(image, x, graph.top) == green and rgb(image, x, graph.bottom - 1) == green
    assert rgb(image, graph.right - 2 * 10, graph.centery) == GRAPH_BG


def test_the_overlay_shows_a_sound_players_counts(screen: pygame.Surface) -> None:
    player = SoundPlayer(frame_ms=50, cooldown_ms=200)
    beep = tone(440, 20)
    loop = GameLoop(screen, update=lambda dt: player.play(beep), fps=None, overlay=True)
    loop.overlay.show_sounds(player)
    loop.run(frames=3)
    (line,) = loop.overlay.lines
    assert line() == "sound  played 1  capped 0  starved 0  cooldown 2  limited 0  stolen 0"


def test_the_overlay_traces_the_backlog_in_white_over_the_bars(
    screen: pygame.Surface, tmp_path: Path,
) -> None:
    history = history_of(
        FrameRecord(0, dispatched=4, pending=0),
        FrameRecord(1, dispatched=4, pending=5),
        FrameRecord(2, dispatched=4, pending=10),
    )
    overlay = Overlay(history, visible=True)
    screen.fill(WHITE)
    overlay.draw(screen)
    image = screenshot(screen, tmp_path / "backlog.png")
    graph = overlay.graph_rect
    green = BAR_COLORS["dispatched"]
    x0, x1, x2 = graph.right - 6, graph.right - 4, graph.right - 2
    column = [rgb(image, x0, y) for y in range(graph.top, graph.bottom)]
    assert column.count(BACKLOG) == 1 and column[-1] == BACKLOG  # a backlog of 0: at the base
    middle = graph.bottom - 1 - round(5 * (graph.height - 1) / 10)
    assert rgb(image, x1, middle) == BACKLOG and rgb(image, x1, middle - 1) == green
    assert rgb(image, x2, graph.top) == BACKLOG  # the peak shown: the top
    # and its line of text, between the counts and the graph
    line = overlay.font.get_linesize()
    text_row = range(graph.top - line, graph.top - 2)
    assert any(rgb(image, x, y) == BACKLOG for x in range(graph.x, graph.right) for y in text_row)


def test_a_running_loops_overlay_shows_its_backlog(screen: pygame.Surface, tmp_path: Path) -> None:
    later: list[int] = []
    loop = GameLoop(screen, fps=None, overlay=True)
    loop.update = lambda dt: loop.tick.post(later.append, loop.tick.frame)  # for the next frame
    loop.run(frames=3)
    assert [r.pending for r in loop.history] == [1, 1, 1] and later == [0, 1]
    image = screenshot(screen, tmp_path / "loop-backlog.png")
    graph = loop.overlay.graph_rect
    for index in range(2):  # the 2 frames graphed: each left 1 waiting, the peak
        assert rgb(image, graph.right - 2 * (index + 1), graph.top) == BACKLOG
