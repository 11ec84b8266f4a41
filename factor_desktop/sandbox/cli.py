"""``factor-desktop sandbox``: run a local QuickBooks Online until interrupted.

The first line written to stdout is one JSON object describing the server (base_url,
discovery_url, client_id, client_secret, realm_id, company_name, admin_url).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from .core import SandboxConfig
from .server import SandboxServer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
    parser.add_argument("--state", type=Path, default=None, help="SQLite file keeping the company")
    parser.add_argument("--seed", choices=("demo", "empty"), default="empty")
    parser.add_argument("--auto-approve", action="store_true", help="skip the consent page")
    parser.add_argument("--client-id", default=None)
    parser.add_argument("--client-secret", default=None)
    parser.add_argument("--company-name", default=None)
    parser.add_argument("--rotation-interval", type=float, default=86400.0, metavar="SECONDS")
    parser.add_argument("--rotation-grace", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--rate-limits", action="store_true", help="enforce QBO's throttling")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--fail-5xx-rate", type=float, default=0.0)
    parser.add_argument("--burst-429", type=int, default=0)
    parser.add_argument("--drop-after-commit-rate", type=float, default=0.0)
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="length of QBO's rate-limit windows × this"
    )
    parser.add_argument("--random-seed", type=int, default=None)


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    return SandboxConfig(
        host=args.host,
        port=args.port,
        state_path=args.state,
        seed=args.seed,
        auto_approve=args.auto_approve,
        client_id=args.client_id,
        client_secret=args.client_secret,
        company_name=args.company_name,
        rotation_interval_s=args.rotation_interval,
        rotation_grace_s=args.rotation_grace,
        rate_limits=args.rate_limits,
        latency_ms=args.latency_ms,
        fail_5xx_rate=args.fail_5xx_rate,
        burst_429=args.burst_429,
        drop_after_commit_rate=args.drop_after_commit_rate,
        time_scale=args.time_scale,
        random_seed=args.random_seed,
    )


def run_from_args(args: argparse.Namespace) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with SandboxServer(config_from_args(args)) as server:
            sys.stdout.write(json.dumps(server.describe()) + "\n")
            sys.stdout.flush()
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="factor-desktop sandbox", description="Run a local QuickBooks Online sandbox."
    )
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))
