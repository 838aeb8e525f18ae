"""A peer in the bench: a FastAPI + SQLite webhook receiver as people write it by hand (uvicorn with uvloop/httptools).

Checks the bearer token, parses the body as JSON, and (unless FASTAPI_MODE=parse) commits one SQLite INSERT per
request (autocommit, WAL, synchronous=NORMAL) before answering 202. FASTAPI_MODE=parse answers 202 after parsing, storing
nothing: Python's ceiling on this machine, not a durable receiver.
"""
import hmac
import json
import os
import sqlite3
import time

from fastapi import FastAPI, Request, Response

TOKEN = os.environ["BASELINE_TOKEN"].encode()
DURABLE = os.environ.get("FASTAPI_MODE", "durable") != "parse"

db = None
if DURABLE:
    db = sqlite3.connect(os.environ["NAIVE_DB"], isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS webhooks (id INTEGER PRIMARY KEY, run_id TEXT UNIQUE, received_at INTEGER NOT NULL, payload BLOB NOT NULL)")

app = FastAPI()


@app.post("/webhooks/langgraph")
async def receive(request: Request) -> Response:
    header = request.headers.get("authorization", "")
    sent = header[7:] if header[:7].lower() == "bearer " else header
    if not hmac.compare_digest(sent.encode(), TOKEN):
        return Response(status_code=401)
    body = await request.body()
    try:
        run = json.loads(body)
    except ValueError:
        return Response(status_code=400)
    if db is not None:
        # One event loop thread: the INSERT (and its commit) runs alone, as a locked connection would.
        db.execute("INSERT INTO webhooks (run_id, received_at, payload) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                   (run.get("run_id") if isinstance(run, dict) else None, int(time.time() * 1000), body))
    return Response(status_code=202)


@app.get("/health/ready")
async def ready() -> Response:
    return Response(status_code=200)
