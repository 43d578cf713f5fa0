"""Drive wrk (Debian's `wrk` package) and read back its figures as a dict."""
from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# done() reads every thread's count of answers other than the expected status, so a page that quietly redirects
# to the sign-in form (an expired session) is an error here, not a fast success.
LUA = r"""
local threads = {}
local counter = 0
local template = %(body)s
local path = %(path)s

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  unexpected = 0
end

%(request)s

function response(status, headers, body)
  if status ~= %(expect)d then unexpected = unexpected + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("unexpected") end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "unexpected": %%d, "connect": %%d, "read": %%d, ' ..
    '"write": %%d, "timeout": %%d, "p50": %%d, "p95": %%d, "p99": %%d, "mean": %%f, "max": %%d}\n',
    summary.requests, summary.duration, bad, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean, latency.max))
end
"""
POST_REQUEST = r"""
function request()
  if post_headers == nil then
    -- wrk.format uses only the headers it is given: keep the -H ones (cookie, proxy) and add the form type.
    post_headers = {}
    for k, v in pairs(wrk.headers) do post_headers[k] = v end
    post_headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  counter = counter + 1
  local body = string.gsub(template, "{{n}}", tostring(tid) .. "-" .. tostring(counter) .. "-" .. tostring(os.time()))
  return wrk.format("POST", path, post_headers, body)
end
"""


@dataclass
class Result:
    """What one wrk run measured; latencies in milliseconds."""

    requests: int
    seconds: float
    unexpected: int
    socket_errors: int
    p50: float
    p95: float
    p99: float
    mean: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.unexpected + self.socket_errors


def wrk_path() -> str:
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    return path


def _run(url: str, script: Path, *, headers: dict[str, str], seconds: int, connections: int,
         threads: int) -> Result:
    cmd = [wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script)]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures (exit {out.returncode}): {out.stdout[-500:]} {out.stderr[-500:]}")
    d = json.loads(line[len("WRKJSON "):])
    return Result(requests=d["requests"], seconds=d["duration_us"] / 1e6, unexpected=d["unexpected"],
                  socket_errors=d["connect"] + d["read"] + d["write"] + d["timeout"], p50=d["p50"] / 1000,
                  p95=d["p95"] / 1000, p99=d["p99"] / 1000, mean=d["mean"] / 1000)


def _lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def run_wrk(url: str, *, path: str, headers: dict[str, str], seconds: int, connections: int, threads: int = 1,
            method: str = "GET", body: str | None = None, expect: int = 200, workdir: Path) -> Result:
    """One wrk run; body may hold {{n}}, replaced by a value unique to each request."""
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / "wrk_report.lua"
    script.write_text(LUA % {"body": _lua_string(body or ""), "path": _lua_string(path), "expect": expect,
                             "request": POST_REQUEST if method == "POST" else ""})
    return _run(url, script, headers=headers, seconds=seconds, connections=connections, threads=threads)


MIX_REQUEST = r"""
function init(args)
  unexpected = 0
  reqs = {}
  for i, item in ipairs(items) do
    local h = {}
    for k, v in pairs(wrk.headers) do h[k] = v end
    for k, v in pairs(item.headers) do h[k] = v end
    reqs[i] = wrk.format("GET", item.path, h)
  end
  n = 0
end

function request()
  n = n + 1
  return reqs[(n % #reqs) + 1]
end
"""


def run_wrk_mix(url: str, *, items: list[tuple[str, dict[str, str]]], headers: dict[str, str], seconds: int,
                connections: int, workdir: Path, threads: int = 1) -> Result:
    """wrk cycling through several GETs (path, extra headers such as each person's cookie); 200 expected."""
    entries = []
    for path, extra in items:
        pairs = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in extra.items())
        entries.append(f"{{path = {_lua_string(path)}, headers = {{{pairs}}}}}")
    table = ", ".join(entries)
    lua = (LUA % {"body": '""', "path": '"/"', "expect": 200, "request": ""}).replace(
        "function init(args)\n  unexpected = 0\nend\n", "")
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / "wrk_mix.lua"
    script.write_text(f"items = {{{table}}}\n" + lua + MIX_REQUEST)
    return _run(url, script, headers=headers, seconds=seconds, connections=connections, threads=threads)
