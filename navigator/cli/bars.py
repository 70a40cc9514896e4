"""`navigator fake-bars-sender`: a local fake of a BaRS sender (an NHS 111 system's receiving
side), where navigator's `servicerequest-response` messages go when trying BaRS by hand.

The fake (`navigator.bars.fake_sender`) needs no app, database or settings, so the command is
added to the `navigator` group itself (like `rules`) and the fake is imported only when the
command runs. `scripts/run` starts it on :8011 and registers it in `BARS_SENDER_ENDPOINTS`.
"""

from __future__ import annotations

import signal
from types import FrameType

import click


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM (what `scripts/run` and process managers send) ends the server loop the same way
    # Ctrl-C does, so both stop cleanly with exit status 0.
    raise KeyboardInterrupt


@click.command("fake-bars-sender")
@click.option("--port", type=int, default=8011, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="A loopback address.")
def fake_bars_sender(port: int, host: str) -> None:
    """A local fake BaRS sender: accepts navigator's status responses and lists them."""
    from navigator.bars.fake_sender import LISTING, FakeBarsSender

    try:
        fake = FakeBarsSender(host=host, port=port)
    except ValueError as exc:  # not a loopback address
        raise click.BadParameter(str(exc), param_hint="--host") from exc
    except OSError as exc:  # the port is taken
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    click.echo(
        f"fake BaRS sender on {fake.url} (register it: BARS_SENDER_ENDPOINTS={fake.url}); "
        f"what it received: GET {fake.url}{LISTING}",
    )
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        fake.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        fake.stop()
    click.echo("fake BaRS sender stopped")
