"""Several daemons behind one address: ZeroMQ's ROUTER-DEALER proxy (``zmq.proxy``).

    python -m daemon.proxy --frontend tcp://127.0.0.1:5577 --backend tcp://127.0.0.1:5578
    clvae-daemon --connect tcp://127.0.0.1:5578 --device cuda:0
    clvae-daemon --connect tcp://127.0.0.1:5578 --device cuda:1

Clients connect to the frontend as they would to a daemon. The DEALER backend hands each
request to the next daemon in turn; replies find their way back through the routing
frames. The proxy forwards frames unchanged, so signatures are checked end to end by the
daemons; it cannot check them itself, hence a frontend other machines can reach needs
``--backends-authenticate`` (a promise that every daemon runs with ``--key-file``).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import Optional, Sequence

import zmq

from daemon.auth import is_local
from daemon.protocol import DEFAULT_ENDPOINT, DEFAULT_PORT, MAX_FRAME_BYTES

DEFAULT_BACKEND = f"tcp://127.0.0.1:{DEFAULT_PORT + 1}"
EXIT_ERROR = 2
log = logging.getLogger("clvae.proxy")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m daemon.proxy", description="Spread clients' requests over "
                                     "several clvae daemons (docs/daemon.md).")
    parser.add_argument("--frontend", default=DEFAULT_ENDPOINT, help=f"address clients connect to ({DEFAULT_ENDPOINT})")
    parser.add_argument("--backend", default=DEFAULT_BACKEND,
                        help=f"address daemons connect to with --connect ({DEFAULT_BACKEND})")
    parser.add_argument("--backends-authenticate", action="store_true",
                        help="allow a frontend other machines can reach: every daemon runs with --key-file")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="clvae-proxy %(asctime)s %(levelname)s %(message)s")
    exposed = [endpoint for endpoint in (args.frontend, args.backend) if not is_local(endpoint)]
    if exposed and not args.backends_authenticate:
        print(f"clvae-proxy: error: {', '.join(exposed)} is reachable from other machines; run every daemon with "
              "--key-file and pass --backends-authenticate", file=sys.stderr)
        return EXIT_ERROR
    context = zmq.Context()
    frontend, backend = context.socket(zmq.ROUTER), context.socket(zmq.DEALER)
    try:
        for sock, endpoint in ((frontend, args.frontend), (backend, args.backend)):
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME_BYTES + 1024)
            sock.setsockopt(zmq.IPV6, 1)
            sock.bind(endpoint)
    except zmq.ZMQError as error:
        print(f"clvae-proxy: error: cannot bind: {error}", file=sys.stderr)
        return EXIT_ERROR
    signal.signal(signal.SIGTERM, _interrupt)
    log.info("forwarding %s -> %s", args.frontend, args.backend)
    try:
        zmq.proxy(frontend, backend)
    except KeyboardInterrupt:
        log.info("stopped")
    finally:
        frontend.close()
        backend.close()
        context.term()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
