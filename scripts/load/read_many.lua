-- wrk script of the growth run's read phase: PATCH /payments/histories/:id
-- of a history picked at random from LOAD_DIR/read.ids (a sample of the
-- whole table, `load fill`) with the one pre-encrypted {"password"} body,
-- so the reads touch the table's whole index and heap, not one hot row.
--
-- Picking the id needs a request() callback (Lua per request), but there
-- is no response() callback: wrk parses no answer in Lua, and lib.sh's
-- wrk_counts takes the errors (non-2xx answers, socket errors) and the
-- latency percentiles from wrk's own report.
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
end

function request()
  local id = ids[math.random(#ids)]
  return wrk.format("PATCH", "/payments/histories/" .. id, {["Content-Type"] = "text/plain"}, body)
end
