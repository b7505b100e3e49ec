-- wrk script of the read phase: PATCH /payments/histories/:id with the one
-- pre-encrypted {"password"} body (static IV: the same plaintext always
-- encrypts the same). LOAD_DIR holds read.path and read.body (prepare).
local dir = os.getenv("LOAD_DIR")

local function slurp(name)
  local f = assert(io.open(dir .. "/" .. name, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

wrk.method = "PATCH"
wrk.path = slurp("read.path")
wrk.body = slurp("read.body")
wrk.headers["Content-Type"] = "text/plain"

-- Count answers by status so a fast error cannot pass for a fast read.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok, bad = 0, 0
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local o, b = 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    b = b + t:get("bad")
  end
  io.write(string.format("status ok=%d other=%d\n", o, b))
  io.write(string.format("rate ok_per_s=%.1f over %.1fs\n", o / (summary.duration / 1e6), summary.duration / 1e6))
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("latency p%d_ms=%.2f\n", p, latency:percentile(p) / 1000))
  end
end
