-- wrk script of the growth run's read phase: PATCH /payments/histories/:id
-- of a history picked at random from LOAD_DIR/read.ids (a sample of the
-- whole table, `load fill`) with the one pre-encrypted {"password"} body,
-- so the reads touch the table's whole index and heap, not one hot row.
local dir = os.getenv("LOAD_DIR")

local function slurp(name)
  local f = assert(io.open(dir .. "/" .. name, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ids = {}
  for line in io.lines(dir .. "/read.ids") do
    if line ~= "" then table.insert(ids, line) end
  end
  body = slurp("read.body")
  math.randomseed(os.time() + #threads)
  ok, bad = 0, 0
end

function request()
  local id = ids[math.random(#ids)]
  return wrk.format("PATCH", "/payments/histories/" .. id, {["Content-Type"] = "text/plain"}, body)
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
