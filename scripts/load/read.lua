-- wrk script of the read phase: PATCH /payments/histories/:id with the one
-- pre-encrypted {"password"} body (static IV: the same plaintext always
-- encrypts the same). LOAD_DIR holds read.path and read.body (prepare).
--
-- It sets the request only: no request(), response() or done() callback,
-- so wrk runs no Lua per request or answer, as for the gin baseline (which
-- runs without a script). The phase still counts errors apart from reads:
-- lib.sh's wrk_counts takes wrk's own "Non-2xx or 3xx responses" and
-- "Socket errors" counts and the --latency percentiles.
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
