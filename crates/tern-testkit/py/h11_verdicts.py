"""Feeds tern's hostile-input catalogue to h11 and prints what h11 decided, as JSON.

Run by `tern-testkit` (`src/differential.rs`) from the interop virtual environment that
`cargo xtask interop-setup` creates (h11 pinned there). Usage:

    python h11_verdicts.py server|client < cases.json > verdicts.json

stdin: a JSON list of cases, `{"name": str, "input": hex, "method": "GET"|"HEAD"}` (`method`
for client cases only). stdout: a JSON list, one object per case, in order, every byte string
as hex:

- server: `{"name", "requests": [{"method", "target", "body"}], "end", "detail"}`, where
  `requests` are the complete requests h11 handed over (the handler answered each), and `end`
  is `idle` (waiting for a next request, nothing buffered), `closed` (h11 wants the connection
  closed after a response: HTTP/1.0, `Connection: close`, a switch to another protocol),
  `need-data` (h11 waits for more bytes of a head or body), `error` (RemoteProtocolError;
  `detail` has its message and status hint) or `script-error` (an exception of this script).
- client: `{"name", "status", "body", "end", "detail"}`, with `end` `complete` (the response
  ended: `status` and `body` are its) or `error` / `script-error` as above.

The server is fed the input in pieces of 64 KiB (the read size of h11's own example servers)
and asked for events after each, as a socket server would be; the client never closes. The
client sends `GET /` (or HEAD) with a Host field, receives the whole input and then the close,
as the catalogue's scripted server closes after answering.
"""

import json
import sys

import h11

READ_SIZE = 65536


def server_case(data: bytes) -> dict:
    conn = h11.Connection(h11.SERVER)
    requests = []
    current = None
    pos = 0
    end = None
    detail = ""
    try:
        while end is None:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                if pos < len(data):
                    conn.receive_data(data[pos : pos + READ_SIZE])
                    pos += READ_SIZE
                    continue
                buffered, _ = conn.trailing_data
                if conn.their_state is h11.IDLE and not buffered:
                    end = "idle"
                else:
                    end = "need-data"
                    detail = "their state %s, %d bytes buffered" % (conn.their_state.__name__, len(buffered))
            elif isinstance(event, h11.Request):
                current = {"method": bytes(event.method), "target": bytes(event.target), "body": b""}
            elif isinstance(event, h11.Data):
                current["body"] += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                requests.append(current)
                # The catalogue's handler: 200 with `METHOD URI BODY` (no body for HEAD).
                # A 2xx answer to CONNECT opens a tunnel: h11 switches protocols at its head and
                # allows no body (RFC 9110 9.3.6), so the handler sends the head only.
                text = current["method"] + b" " + current["target"] + b" " + current["body"]
                connect = current["method"] == b"CONNECT"
                headers = [] if connect else [("Content-Type", "text/plain"), ("Content-Length", str(len(text)))]
                conn.send(h11.Response(status_code=200, headers=headers))
                if conn.our_state is not h11.SWITCHED_PROTOCOL:
                    if current["method"] != b"HEAD":
                        conn.send(h11.Data(data=text))
                    conn.send(h11.EndOfMessage())
                current = None
                if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
                    conn.start_next_cycle()
                elif h11.MUST_CLOSE in (conn.our_state, conn.their_state) or conn.our_state is h11.SWITCHED_PROTOCOL:
                    end = "closed"
                    detail = "our state %s, their state %s" % (conn.our_state.__name__, conn.their_state.__name__)
            elif event is h11.PAUSED:
                end = "closed"
                detail = "paused: our state %s, their state %s" % (conn.our_state.__name__, conn.their_state.__name__)
            elif isinstance(event, h11.ConnectionClosed):
                end = "closed"
                detail = "connection closed"
            else:
                end = "script-error"
                detail = "unexpected event %r" % (event,)
    except h11.RemoteProtocolError as e:
        end = "error"
        detail = "%s (status hint %d)" % (e, e.error_status_hint)
    except Exception as e:  # noqa: BLE001 - reported, and the Rust side fails on it
        end = "script-error"
        detail = "%s: %s" % (type(e).__name__, e)
    return {
        "requests": [{k: v.hex() for k, v in r.items()} for r in requests],
        "end": end,
        "detail": detail,
    }


def client_case(data: bytes, method: str) -> dict:
    conn = h11.Connection(h11.CLIENT)
    status = None
    body = b""
    end = None
    detail = ""
    try:
        conn.send(h11.Request(method=method, target="/", headers=[("Host", "example.test")]))
        conn.send(h11.EndOfMessage())
        conn.receive_data(data)
        conn.receive_data(b"")
        while end is None:
            event = conn.next_event()
            if isinstance(event, h11.InformationalResponse):
                detail += "skipped %d; " % event.status_code
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                end = "complete"
            else:
                end = "error"
                detail += "no complete response: %r" % (event,)
    except h11.RemoteProtocolError as e:
        end = "error"
        detail += str(e)
    except Exception as e:  # noqa: BLE001 - reported, and the Rust side fails on it
        end = "script-error"
        detail += "%s: %s" % (type(e).__name__, e)
    return {"status": status, "body": body.hex(), "end": end, "detail": detail}


def main() -> None:
    kind = sys.argv[1]
    cases = json.load(sys.stdin)
    out = []
    for case in cases:
        data = bytes.fromhex(case["input"])
        if kind == "server":
            verdict = server_case(data)
        elif kind == "client":
            verdict = client_case(data, case.get("method") or "GET")
        else:
            raise SystemExit("usage: h11_verdicts.py server|client < cases.json")
        verdict["name"] = case["name"]
        out.append(verdict)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
