"""airlock-py loads as ``airlock_py`` beside our ``airlock`` and the two stay independent."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import airlock
from benchmarks import _peer

from .effects import Recorder


def test_both_libraries_load_side_by_side() -> None:
    peer = _peer.load_peer()
    assert sys.modules["airlock"] is airlock
    assert Path(airlock.__file__ or "").parent.name == "airlock"
    assert Path(peer.__file__ or "").is_relative_to(_peer.TARGET)
    assert sys.modules[_peer.PEER_NAME] is peer
    assert peer is not airlock


def test_scopes_of_the_two_libraries_do_not_see_each_other() -> None:
    peer = _peer.load_peer()
    effect = Recorder()
    with peer.scope():
        peer.enqueue(effect, "peer")
        with airlock.scope():
            airlock.enqueue(effect, "ours")
            assert airlock.get_current_scope() is not None
        assert effect.calls == [("ours",)]  # our scope had no airlock ancestor: flushed
    assert effect.calls == [("ours",), ("peer",)]
    with pytest.raises(airlock.NoScopeError):
        airlock.enqueue(effect, "outside")


def test_peer_policies_are_its_own() -> None:
    peer = _peer.load_peer()
    effect = Recorder()
    with peer.scope(policy=peer.DropAll()):
        peer.enqueue(effect, 1)
    with peer.scope(), peer.policy(peer.DropAll()):
        peer.enqueue(effect, 2)
    assert effect.calls == []


def test_missing_peer_without_install_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_peer, "TARGET", tmp_path / "nowhere")
    monkeypatch.delitem(sys.modules, _peer.PEER_NAME, raising=False)
    with pytest.raises(_peer.PeerUnavailable, match="not installed"):
        _peer.load_peer(install=False)
