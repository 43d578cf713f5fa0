"""tests/fake_twilio.py's fake Twilio on a fixed port (the bench keeps to 5105-5115), in its own thread."""
from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer

from tests.fake_twilio import FakeTwilio, _handler_for


class FakeTwilioOnPort(FakeTwilio):
    """The same fake (texts recorded by outbox id, the real SDK talks to it), listening on `port`."""

    def __init__(self, port: int, **kwargs) -> None:
        if not 5105 <= port <= 5115:
            raise ValueError("the bench uses ports 5105-5115 only")
        super().__init__(**kwargs)
        self.port = port

    def start(self) -> FakeTwilioOnPort:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-twilio",
                                        daemon=True)
        self._thread.start()
        return self

    def sent_twice(self) -> int:
        """Texts accepted more than once for the same outbox row."""
        return sum(n - 1 for n in self.counts_by_outbox_id().values() if n > 1)

    def rate(self) -> tuple[float, float]:
        """(texts per second, seconds) from the first text accepted to the last."""
        times = [m.at for m in self.messages]
        if len(times) < 2:
            return 0.0, 0.0
        span = max(times) - min(times)
        return (len(times) / span if span else 0.0), span
