"""Run the asteroids demo windowed, or headless with the scripted input and a report."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import pygame

from airlock_pygame import (
    FrameHistory,
    FrameRecord,
    GameLoop,
    LoopbackReceiver,
    NetSender,
    Overlay,
    SoundPlayer,
    display_available,
    format_table,
    noise,
    tone,
    use_dummy_drivers,
)

from ._controls import Controls, post_script_events
from ._world import HEIGHT, TITLE, WIDTH, Effects, GlitchError, World

DEFAULT_FRAMES = 300
DEFAULT_SCREENSHOT = Path("out/pygame-asteroids.png")
NO_DISPLAY = ("--windowed needs a display, and there is none here (DISPLAY and WAYLAND_DISPLAY "
              "are unset, or SDL could only open an off-screen one); run it headless instead: "
              "python -m demos asteroids --headless")
#: what the sound columns mean (said under the table)
SOUND_LEGEND = """\
sound counts: played = started on a mixer channel; cooldown = asked again within its cooldown
  (coalesced into the play before); limited = that sound already ringing max_instances times;
  capped = over the 4-sounds-per-frame cap; stolen = an older, lower-priority sound cut off to
  free its channel for an explosion; starved = no channel free and none lower-priority to take
  (counted, never lost silently)."""


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m demos asteroids",
        description="Asteroids whose sounds, redraws and telemetry all go through airlock.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--headless", dest="headless", action="store_true", default=None,
                      help="SDL dummy drivers, scripted input (default when no display)")
    mode.add_argument("--windowed", dest="headless", action="store_false",
                      help="open a window and play with the keyboard")
    parser.add_argument("--frames", type=int, default=None,
                        help=f"frames to run (headless default {DEFAULT_FRAMES}; "
                             "windowed: until closed)")
    parser.add_argument("--screenshot", type=Path, default=None,
                        help=f"PNG of the last frame (headless default {DEFAULT_SCREENSHOT})")
    parser.add_argument("--every", type=int, default=None,
                        help="print every Nth frame in the table (default: about 30 rows)")
    parser.add_argument("--script", action=argparse.BooleanOptionalAction, default=None,
                        help="play the scripted key sequence (default: only when headless)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--asyncio", action="store_true",
                        help="run the loop as one task of an asyncio program (await "
                             "loop.run_async()), the telemetry receiver as another")
    args = parser.parse_args(argv)
    if args.headless is None:
        args.headless = not display_available()
    elif not args.headless and not display_available():
        parser.error(NO_DISPLAY)
    if args.script is None:
        args.script = args.headless
    if args.headless:
        args.frames = DEFAULT_FRAMES if args.frames is None else args.frames
        args.screenshot = args.screenshot or DEFAULT_SCREENSHOT
    if args.frames is not None and args.frames < 1:
        parser.error("--frames must be at least 1")
    if args.every is not None and args.every < 1:
        parser.error("--every must be at least 1 (1: every frame)")
    return args


def sound_bank() -> dict[str, pygame.mixer.Sound]:
    """The game's sounds, synthesised (empty when there is no audio device)."""
    if not pygame.mixer.get_init():
        return {}
    return {
        "shoot": tone(880, 400, 0.15), "thrust": noise(80, 0.08, seed=1),
        "boom1": noise(160, 0.3, seed=2), "boom2": noise(260, 0.35, seed=3),
        "boom3": noise(400, 0.4, seed=4), "click": tone(1320, 30, 0.2),
    }


def main(argv: list[str]) -> int:
    args = parse(argv)
    if args.headless:
        use_dummy_drivers()
    pygame.init()
    try:
        if not args.headless and pygame.display.get_driver() in ("offscreen", "dummy"):
            print(f"python -m demos asteroids: error: {NO_DISPLAY}", file=sys.stderr)
            return 2
        return play(args)
    finally:
        pygame.quit()


def play(args: argparse.Namespace) -> int:
    screen = pygame.display.set_mode((WIDTH, HEIGHT))
    pygame.display.set_caption(TITLE)
    receiver = LoopbackReceiver()
    sender = NetSender(receiver.address)
    sounds = SoundPlayer(cap=4)
    if pygame.mixer.get_init():
        pygame.mixer.set_num_channels(3)  # three channels: limits, priorities and stealing show
    world = World(Effects(sounds, sender, sound_bank()), seed=args.seed)
    history = FrameHistory(None if args.headless else 600)
    loop = GameLoop(screen, update=world.update, draw=world.draw, present="dirty",
                    fps=None if args.headless else 60, history=history, dt=1 / 60,
                    fixed_steps=2,  # headless: 30 frames/s of game time, physics at 60 Hz
                    overlay=Overlay(history, visible=True, graph_frames=120, font_size=18))
    if args.headless:  # channels counted in frames: the same numbers on every run
        sounds.frame_ms = loop.frame_ms
    controls = Controls(world, loop)
    loop.on_event = controls.on_event
    per_frame: dict[int, dict[str, int]] = {}
    shown = {"sound": "", "net": ""}
    loop.overlay.add_line(lambda: shown["sound"])
    loop.overlay.show_sounds(sounds)  # "sound  ...": the running totals
    loop.overlay.add_line(lambda: shown["net"])

    def after_frame(record: FrameRecord) -> None:
        snd, net = sounds.take_report(), sender.take_report()
        if not args.asyncio:  # under asyncio the receiver's own task takes the datagrams
            receiver.drain()
        per_frame[record.frame] = {
            "played": snd.played, "cooldown": snd.cooldown, "limited": snd.limited,
            "stolen": snd.stolen, "starved": snd.starved, "datagrams": net.datagrams}
        shown["sound"] = f"frame  {snd.summary()}"
        shown["net"] = f"net  {net.datagrams} datagram(s), {net.payloads} payload(s)"
        if args.script:
            post_script_events(record.frame + 1, say)

    if args.script:
        print("scripted run: each key press below is played by the script, not a person",
              flush=True)
        post_script_events(0, say)
    try:
        if args.asyncio:
            frames, listened = asyncio.run(run_in_asyncio(loop, receiver, args.frames,
                                                          after_frame))
            print(f"asyncio: the loop ran as a task (await loop.run_async()); the telemetry "
                  f"receiver, another task, took {listened} datagrams between frames")
        else:
            frames = loop.run(args.frames, after_frame=after_frame)
        if args.screenshot is not None:
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            pygame.image.save(screen, str(args.screenshot))
        receiver.drain(timeout=0.2)
    finally:
        sender.close()
        receiver.close()
    report(args, loop, frames, per_frame, receiver, sender, sounds)
    received = len(receiver.messages), len(receiver.payloads)
    return 0 if received == (sender.totals.datagrams, sender.totals.payloads) else 1


async def run_in_asyncio(loop: GameLoop, receiver: LoopbackReceiver, frames: int | None,
                         after_frame: Callable[[FrameRecord], None]) -> tuple[int, int]:
    """The game as one task of an asyncio program, the telemetry receiver as another: it takes
    each datagram as it arrives, while the loop waits between frames. Returns (frames run,
    datagrams the receiver's task took)."""
    listened = 0

    async def listen() -> None:
        nonlocal listened
        while True:
            await receiver.receive()
            listened += 1

    listener = asyncio.create_task(listen())
    try:
        run = await loop.run_async(frames, after_frame=after_frame)
        await asyncio.sleep(0)  # the last frame's datagram
        return run, listened
    finally:
        listener.cancel()


def say(text: str) -> None:
    """Narrate as it happens (flushed, so it comes before any log line the frame causes)."""
    print(text, flush=True)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, ... 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def report(args: argparse.Namespace, loop: GameLoop, frames: int,
           per_frame: dict[int, dict[str, int]], receiver: LoopbackReceiver,
           sender: NetSender, sounds: SoundPlayer) -> None:
    every = args.every or max(1, frames // 30)
    rows = [r for r in loop.history if r.frame % every == 0 or r.error or r.dropped]
    shown = "every frame" if every == 1 else f"every {ordinal(every)} frame"
    print(f"airlock asteroids: {frames} frames ({'headless' if args.headless else 'windowed'})"
          f"; the table shows {shown}, plus frames with drops or errors")
    print(format_table(rows, per_frame))
    print(SOUND_LEGEND)
    clock = (f"the frame clock ({sounds.frame_ms:.1f} ms a frame): the same on every run"
             if sounds.frame_ms else "real time: they vary from run to run")
    print(f"sound channels are counted in {clock}; flush_us is always real time.")
    totals = {name: sum(getattr(r, name) for r in loop.history)
              for name in ("enqueued", "dispatched", "dropped", "coalesced", "batched")}
    print("totals:", "  ".join(f"{k} {v}" for k, v in totals.items()))
    print("sounds:", "  ".join(f"{k} {v}" for k, v in asdict(sounds.totals).items()))
    print(f"telemetry: sent {sender.totals.datagrams} datagrams / {sender.totals.payloads} "
          f"payloads; loopback receiver {receiver.address[0]}:{receiver.address[1]} got "
          f"{len(receiver.messages)} datagrams / {len(receiver.payloads)} payloads")
    for frame, error in loop.errors:
        scripted = " (the scripted glitch, on purpose)" if isinstance(error, GlitchError) else ""
        print(f"frame {frame}: {error!r}{scripted} — that frame's effects were discarded")
    if args.screenshot is not None:
        print(f"screenshot of the last frame: {args.screenshot}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
