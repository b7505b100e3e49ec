-- wrk script of a registration phase: POST /payments/histories, each
-- request with the next pre-encrypted body of $BODIES (one a line, each a
-- payment made at a fake PG by `load prepare`). Threads take disjoint
-- lines, so no payment is registered twice while lines last; a thread that
-- runs out starts over, its repeats are answered 409 and the rate (of 201
-- answers over the whole phase) is then only a lower bound: prepare more.
local file = os.getenv("BODIES")
local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  local n = 0
  for line in io.lines(file) do
    if line ~= "" then
      if n % nthreads == id then table.insert(bodies, line) end
      n = n + 1
    end
  end
  next_body, created, conflict, other = 1, 0, 0, 0
end

function request()
  local body = bodies[next_body]
  next_body = next_body + 1
  if next_body > #bodies then next_body = 1 end
  return wrk.format("POST", "/payments/histories", { ["Content-Type"] = "text/plain" }, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status == 409 then
    conflict = conflict + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local c, d, o = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    d = d + t:get("conflict")
    o = o + t:get("other")
  end
  io.write(string.format("status created=%d conflict=%d other=%d\n", c, d, o))
  io.write(string.format("rate ok_per_s=%.1f over %.1fs\n", c / (summary.duration / 1e6), summary.duration / 1e6))
  if d > 0 then
    io.write("the prepared payments ran out: the rate is a lower bound\n")
  end
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("latency p%d_ms=%.2f\n", p, latency:percentile(p) / 1000))
  end
end
