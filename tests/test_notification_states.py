"""The notification state machine (services/notifications/states.py): the status sets every write is guarded by
agree with its arrows, for texts now and email next."""
from __future__ import annotations

import pytest

from portal.models import OUTBOX_STATUSES
from portal.services.notifications import states

TERMINAL = ("delivered", "undelivered", "failed", "blocked", "cancelled")


def test_every_status_the_table_allows_has_its_arrows_and_nothing_else_does():
    assert set(states.STATES) == set(OUTBOX_STATUSES) == set(states.TRANSITIONS)
    for source, targets in states.TRANSITIONS.items():
        assert targets <= set(states.STATES), source
        assert source not in targets, f"{source} -> itself is not a move"


@pytest.mark.parametrize("status", TERMINAL)
def test_a_finished_notification_never_moves_again(status):
    assert all(not states.may_move(status, other) for other in states.STATES)


@pytest.mark.parametrize("guard, target", [
    (states.CLAIMABLE, "sending"),  # delivery.claim()
    (states.WAITING, "blocked"),  # consent.opt_out_number()
    (states.WAITING, "cancelled"),  # outbox.cancel_waiting_texts()
    (states.NOT_YET_SENT, "sent"),  # status.apply_status_callback(): the callback beat the worker's own write
    (states.NOT_YET_SENT, "delivered"),
    (states.NOT_YET_SENT, "undelivered"),
    (("sent",), "delivered"),  # a later callback
    (("sent",), "failed"),
    (("sending",), "queued"),  # a retry, or a claim given back (release, reclaim_stale)
    (("sending",), "deferred"),  # night fell between queueing and sending
    ((states.AWAITING_CONSENT,), "queued"),  # consent.release_held(): the member said yes
    ((states.AWAITING_CONSENT,), "deferred"),
])
def test_each_guarded_write_moves_only_along_an_arrow(guard, target):
    assert all(states.may_move(source, target) for source in guard), (guard, target)


def test_nothing_gets_through_twice_or_comes_back_from_failure():
    assert not states.may_move("sent", "sending") and not states.may_move("delivered", "sent")
    assert set(states.FAILED) <= set(TERMINAL) and "sent" in states.GOT_THROUGH
    assert not set(states.WAITING) & set(states.FAILED)
    assert states.AWAITING_CONSENT in states.WAITING and states.AWAITING_CONSENT not in states.CLAIMABLE
