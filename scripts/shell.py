"""A terminal chat against the running Linli service (REST channel).

Usage: python scripts/shell.py [--url http://127.0.0.1:5005] [--sender me]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
import uuid


def rest_token() -> str:
    """LINLI_REST_TOKEN, else the local token `make run` keeps in var/rest_token."""
    token = os.environ.get("LINLI_REST_TOKEN", "").strip()
    if not token:
        path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "var", "rest_token")
        try:
            with open(path) as handle:
                token = handle.read().strip()
        except OSError:
            pass
    return token


def main() -> int:
    """Read lines from the terminal, print the assistant's answers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_url = f"http://{os.environ.get('LINLI_HOST', '127.0.0.1')}:{os.environ.get('RASA_PORT', '5005')}"
    parser.add_argument("--url", default=default_url)
    parser.add_argument("--sender", default=f"shell-{uuid.uuid4().hex[:8]}")
    args = parser.parse_args()
    endpoint = f"{args.url}/webhooks/rest/webhook"
    print(f"Chatting with {endpoint} as {args.sender}. Ctrl-D to quit.")
    while True:
        try:
            text = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not text:
            continue
        body = json.dumps({"sender": args.sender, "message": text}).encode()
        request = urllib.request.Request(endpoint, body, {"Content-Type": "application/json",
                                                          "Authorization": f"Bearer {rest_token()}"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                answers = json.load(response)
        except urllib.error.URLError as error:
            print(f"error: cannot reach {endpoint} ({error}); is `make run` running?", file=sys.stderr)
            continue
        for answer in answers:
            if "text" in answer:
                print(f"bot> {answer['text']}")
            for button in answer.get("buttons", []):
                print(f"     [{button.get('title')}] → {button.get('payload')}")
            if "image" in answer:
                print(f"bot> (image) {answer['image']}")


if __name__ == "__main__":
    sys.exit(main())
