"""Schemathesis hooks of scripts/fuzz.sh (loaded through SCHEMATHESIS_HOOKS): a check of our own, webhook
signatures for the run with credentials, and a guard that keeps every connection on this machine.

`no_secret_in_answer` fails when an answer, its body or any of its headers, holds a secret of the settings the dev
stack runs with: every `password` and `clientSecret` (wherever they are), and every entry of `pmcApiKeys` and
`webhookSecrets`. An answer that echoes one (in a problem's detail, a validation message, a header) hands it to
whoever called, authenticated or not. The failure names the setting (`servicenow.password`), never its value.

The settings file is FUZZ_SETTINGS (fuzz.sh sets it from the stack's E2E_SETTINGS_FILE), dev/settings.json without.
A secret is looked for as it is and as it would be written inside a JSON string.

The same goes for the secrets a request brings (a candidate's `password` or `clientSecret` sent to Validate
Settings, which the document promises never to echo). A generated one may be a word the answer holds anyway (the
candidate's username, a word of a hint), so one found in an answer is confirmed first: the request is sent again
with that secret replaced by a value of its own, and only an answer that holds that value fails.

Nothing leaves this machine. settings-validator connects to the `instanceUrl` and `apiUrl` of a candidate it is
sent, and the generated ones name hosts anywhere (the document's own examples name real domains). So before each
request is sent, every `instanceUrl` or `apiUrl` in a JSON body whose host is not one of the stack's simulators
(E2E_SIM_URL, E2E_PMC_URL) gets a closed loopback port for its host, the rest of the value as it was: the validator
still parses it and still tries it, and is refused at once. The cassette in .dev/fuzz/ holds the bytes actually sent;
a reproduction printed by Schemathesis shows the body as generated, so rewrite its host the same way before use.

With FUZZ_WEBHOOK_SECRET set (the run with credentials), each call of an operation secured by `webhookSignature`
(ServiceNow's webhook) is signed as ServiceNow signs it: `X-Webhook-Timestamp` now and `X-Webhook-Signature` over
the bytes actually sent, replacing whatever was generated. Without it every event would stop at `401`, and
ticket-callback's parsing and rules would never be fuzzed. The run without credentials sends them as generated.

`python scripts/fuzz_hooks.py` checks the hooks themselves on planted cases (fuzz.sh does so before each run): that
the check finds a secret in a body and in a header and lets a clean answer through, that a request's own secret
fails only when its canary comes back, and that every URL the connector could reach off the machine is kept local.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import socket
import sys
import time

try:
    import schemathesis
except ImportError:  # the self-test runs without it
    schemathesis = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEYS = {"password", "clientSecret"}
SECRET_LISTS = {"pmcApiKeys", "webhookSecrets"}


def secrets_of(settings, path=""):
    """[(where, value)]: every secret value in the settings, with its JSON path."""
    found = []
    if isinstance(settings, dict):
        for key, value in settings.items():
            where = f"{path}.{key}" if path else key
            if key in SECRET_KEYS and isinstance(value, str):
                found.append((where, value))
            elif key in SECRET_LISTS and isinstance(value, list):
                found.extend((f"{where}[{i}]", item) for i, item in enumerate(value) if isinstance(item, str))
            else:
                found.extend(secrets_of(value, where))
    elif isinstance(settings, list):
        for i, item in enumerate(settings):
            found.extend(secrets_of(item, f"{path}[{i}]"))
    return [(where, value) for where, value in found if value]


def load_secrets(path=None):
    path = path or os.environ.get("FUZZ_SETTINGS") or os.path.join(ROOT, "dev", "settings.json")
    with open(path, encoding="utf-8") as file:
        secrets = secrets_of(json.load(file))
    if not secrets:
        raise RuntimeError(f"{path} holds no secret to look for: is it a settings file?")
    return secrets


def forms(value):
    """The byte strings that show `value` in an answer: as it is, and escaped as in a JSON string."""
    plain = value.encode("utf-8")
    escaped = json.dumps(value)[1:-1].encode("utf-8")
    return {plain, escaped}


def leaks(secrets, body, headers):
    """[description]: where each secret shows in the answer (`body: servicenow.password`)."""
    found = []
    header_lines = [f"{name}: {value}".encode("utf-8") for name, values in headers.items() for value in values]
    for where, value in secrets:
        for form in forms(value):
            if form in body:
                found.append(f"the body holds {where}")
                break
        for line in header_lines:
            if any(form in line for form in forms(value)):
                found.append(f"a header holds {where}: {line.split(b':', 1)[0].decode()}")
                break
    return found


def webhook_signature(secret, timestamp, body):
    """ServiceNow's: base64 of HMAC-SHA256(secret, "<timestamp>.<raw body bytes>")."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


# The JSON keys whose value the connector connects to (the candidate settings' base URLs).
URL_KEYS = {"instanceUrl", "apiUrl"}


def closed_port():
    """A loopback port nothing listens on (free a moment ago): a connection there is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def own_authorities():
    """host:port of the stack's simulators, which a candidate may name as they are."""
    found = set()
    for variable in ("E2E_SIM_URL", "E2E_PMC_URL"):
        match = re.match(r"^https?://([^/]+)", os.environ.get(variable, ""))
        if match:
            found.add(match.group(1).lower())
    return found


def kept_local(value, allowed, closed):
    """`value` with any host it could lead a connection to, other than those `allowed`, replaced by `closed`.

    As the connector reads it (Rust's `url`, a WHATWG parser, after trimming): surrounding whitespace and controls
    do not count, tabs and newlines inside are dropped, the scheme is case-insensitive, and after `http:` or `https:`
    any run of slashes or backslashes leads to the host, which ends at the next `/`, `\\`, `?` or `#`; user info ends
    at the last `@`. Anything that is not http(s) is refused by the connector before it connects, and is kept.
    """
    normalized = re.sub(r"[\t\n\r]", "", value).strip().strip("".join(map(chr, range(0x21))))
    match = re.match(r"(?is)^(https?:)([/\\]*)([^/\\?#]*)(.*)$", normalized)
    if match is None:
        return value
    scheme, slashes, authority, rest = match.groups()
    user, at, host = authority.rpartition("@")
    if not host or host.lower() in allowed:
        return value
    return f"{scheme}{slashes}{user}{at}{closed}{rest}"


def keep_local(document, allowed, closed):
    """(the JSON document with every `instanceUrl` / `apiUrl` kept local, whether anything changed)."""
    if isinstance(document, dict):
        changed = False
        result = {}
        for key, value in document.items():
            if key in URL_KEYS and isinstance(value, str):
                result[key] = kept_local(value, allowed, closed)
                changed = changed or result[key] != value
            else:
                result[key], inner = keep_local(value, allowed, closed)
                changed = changed or inner
        return result, changed
    if isinstance(document, list):
        items = [keep_local(item, allowed, closed) for item in document]
        return [item for item, _ in items], any(changed for _, changed in items)
    return document, False


class Outgoing:
    """A `requests` auth, so that it sees the prepared request: the bytes about to be sent. It keeps the body's base
    URLs local, then, given a webhook secret, signs the very bytes that are sent."""

    def __init__(self, allowed, closed, webhook_secret=None):
        self.allowed = allowed
        self.closed = f"127.0.0.1:{closed}"
        self.webhook_secret = webhook_secret

    def __call__(self, request):
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        try:
            # As the functions read a body: UTF-8, nothing else.
            document = json.loads(body.decode("utf-8")) if body else None
        except ValueError:
            document = None
        document, changed = keep_local(document, self.allowed, self.closed)
        if changed:
            body = json.dumps(document, ensure_ascii=False).encode("utf-8")
            request.body = body
            request.headers["Content-Length"] = str(len(body))
        if self.webhook_secret:
            timestamp = str(int(time.time()))
            request.headers["X-Webhook-Timestamp"] = timestamp
            request.headers["X-Webhook-Signature"] = webhook_signature(self.webhook_secret, timestamp, body)
        return request


def signed_with_webhook(operation):
    """True when the operation is secured by the webhook signature (ServiceNow's events)."""
    security = operation.definition.raw.get("security", [])
    return any("webhookSignature" in requirement for requirement in security)


def with_canaries(document, suspects):
    """(the document with each suspected secret replaced by a canary of its own, {canary: where})."""
    canaries = {}

    def replace(node, path):
        if isinstance(node, dict):
            return {key: replace(value, f"{path}.{key}" if path else key) for key, value in node.items()}
        if isinstance(node, list):
            return [replace(item, f"{path}[{i}]") for i, item in enumerate(node)]
        if path in suspects:
            canary = f"fuzzcanary{os.urandom(8).hex()}"
            canaries[canary] = path
            return canary
        return node

    return replace(document, ""), canaries


def echoed_request_secrets(request, answer, send):
    """[where]: the request's own secrets that its answer echoes, each confirmed by `send`ing it again with a canary
    in its place. `send(body)` answers the bytes of the answer to the same request with that body."""
    body = request.body or b""
    try:
        document = json.loads(body if isinstance(body, str) else body.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError alike
        return []
    # A secret of a few characters is in most answers by chance; confirming each would double the run.
    suspects = {
        where for where, value in secrets_of(document) if len(value) >= 4 and leaks([(where, value)], answer, {})
    }
    if not suspects:
        return []
    document, canaries = with_canaries(document, suspects)
    again = send(json.dumps(document, ensure_ascii=False).encode("utf-8"))
    return sorted(where for canary, where in canaries.items() if canary.encode() in again)


def send_again(request):
    """`send` for echoed_request_secrets: the prepared request once more, with another body (and its signature)."""
    import requests

    def send(body):
        headers = {name: value for name, value in request.headers.items() if name.lower() != "content-length"}
        again = requests.Request(request.method, request.url, headers=headers, data=body).prepare()
        secret = os.environ.get("FUZZ_WEBHOOK_SECRET") if "X-Webhook-Signature" in request.headers else None
        Outgoing(ALLOWED, CLOSED, webhook_secret=secret)(again)
        with requests.Session() as session:
            return session.send(again, timeout=60, allow_redirects=False).content

    return send


SECRETS = None
ALLOWED = own_authorities()
CLOSED = closed_port()

if schemathesis is not None:

    @schemathesis.hook
    def before_call(ctx, case, kwargs):
        secret = os.environ.get("FUZZ_WEBHOOK_SECRET")
        sign = secret if secret and signed_with_webhook(case.operation) else None
        kwargs["auth"] = Outgoing(ALLOWED, CLOSED, webhook_secret=sign)

    @schemathesis.check
    def no_secret_in_answer(ctx, response, case):
        """No answer may hold a secret of the connector's settings."""
        global SECRETS
        if SECRETS is None:
            SECRETS = load_secrets()
        answer = response.content or b""
        found = leaks(SECRETS, answer, response.headers or {})
        if found:
            raise AssertionError("The answer gives away a secret of the settings: " + "; ".join(found))
        echoed = echoed_request_secrets(response.request, answer, send_again(response.request))
        if echoed:
            raise AssertionError("The answer echoes a secret the request sent: " + ", ".join(echoed))
        return None


def self_test():
    secrets = load_secrets()
    where, value = secrets[0]
    assert leaks(secrets, b'{"detail": "fine"}', {"content-type": ["application/json"]}) == []
    assert leaks(secrets, f'{{"detail": "wrong key {value}"}}'.encode(), {}) == [f"the body holds {where}"]
    assert leaks(secrets, b"", {"x-echo": [f"Bearer {value}"]}) == [f"a header holds {where}: x-echo"]
    assert leaks([("p", 'a"b')], b'{"d": "a\\"b"}', {}) == ["the body holds p"], "JSON-escaped form"
    # ServiceNow's signature as servicenow/business-rule.js makes it, computed by the function's own rules.
    assert webhook_signature("s3cret", 1700000000, b'{"a":1}') == base64.b64encode(
        hmac.new(b"s3cret", b'1700000000.{"a":1}', hashlib.sha256).digest()
    ).decode()
    # Every way the connector's URL parser reaches a host, kept local; what it refuses anyway, kept as it is.
    allowed, closed = {"127.0.0.1:8089"}, "127.0.0.1:9"
    for given, expected in [
        ("https://acme.service-now.com", "https://127.0.0.1:9"),
        (" HTTPS://u:p@acme.com:443/path?q#f\n", "HTTPS://u:p@127.0.0.1:9/path?q#f"),
        ("https:\\\\evil.example", "https:\\\\127.0.0.1:9"),
        ("https:evil.example", "https:127.0.0.1:9"),
        ("ht\ttps://evil.example", "https://127.0.0.1:9"),
        ("\u3000https://evil.example\x01", "https://127.0.0.1:9"),
        ("https://a@b@evil.example", "https://a@b@127.0.0.1:9"),
        ("https://%65vil.example", "https://127.0.0.1:9"),
        ("http://localhost:5000", "http://127.0.0.1:9"),
        ("http://127.0.0.1:8089", "http://127.0.0.1:8089"),
        ("https://", "https://"),
        ("ftp://evil.example", "ftp://evil.example"),
        ("evil.example", "evil.example"),
    ]:
        assert kept_local(given, allowed, closed) == expected, (given, kept_local(given, allowed, closed))
    document, changed = keep_local(
        {
            "servicenow": {"instanceUrl": "https://acme.service-now.com", "password": "x"},
            "pmCloud": [{"apiUrl": "https://b"}],
        },
        allowed,
        closed,
    )
    assert changed and document == {
        "servicenow": {"instanceUrl": "https://127.0.0.1:9", "password": "x"},
        "pmCloud": [{"apiUrl": "https://127.0.0.1:9"}],
    }, document
    assert keep_local({"servicenow": {"instanceUrl": "http://127.0.0.1:8089"}}, allowed, closed)[1] is False
    # A request's own secret fails only when a canary in its place comes back too.
    sent = {"servicenow": {"username": "svc.user.name", "password": "svc.user.name", "clientSecret": "abcdefgh"}}
    request = type("Request", (), {"body": json.dumps(sent)})()
    echo = lambda body: json.dumps(json.loads(body)["servicenow"]).encode()  # noqa: E731
    assert echoed_request_secrets(request, b'{"detail": "user svc.user.name, abcdefgh"}', echo) == [
        "servicenow.clientSecret",
        "servicenow.password",
    ]
    says_username = lambda body: b"user " + json.loads(body)["servicenow"]["username"].encode()  # noqa: E731
    assert echoed_request_secrets(request, b"user svc.user.name", says_username) == [], "only the username is echoed"
    names = ", ".join(where for where, _ in secrets)
    print(f"fuzz_hooks: looking for {len(secrets)} secrets of the settings: {names}")


if __name__ == "__main__":
    try:
        self_test()
    except (AssertionError, OSError, ValueError, RuntimeError) as err:
        print(f"fuzz_hooks: the secret check does not work: {err!r}", file=sys.stderr)
        sys.exit(1)
