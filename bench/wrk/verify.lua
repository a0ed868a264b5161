-- wrk script: POST /v1/verify with WRK_BATCH codes per request, taken at
-- random from the code texts in WRK_CODES (one per line). Bodies are built
-- once per thread (WRK_BODIES of them) and then reused at random.
local bodies = {}
errors = 0  -- global: done() reads it from each thread

function init(args)
  local codes = {}
  local file = assert(io.open(os.getenv("WRK_CODES"), "r"))
  for line in file:lines() do
    if #line > 0 then codes[#codes + 1] = line end
  end
  file:close()
  local batch = tonumber(os.getenv("WRK_BATCH") or "1000")
  local nbodies = tonumber(os.getenv("WRK_BODIES") or "16")
  math.randomseed(os.time() + tonumber(tostring(codes):match("0x(%x+)") or "0", 16))
  for b = 1, nbodies do
    local parts = {}
    for i = 1, batch do
      -- code texts are URIs: no quotes or backslashes to escape
      parts[i] = '"' .. codes[math.random(#codes)] .. '"'
    end
    bodies[b] = '{"codes":[' .. table.concat(parts, ",") .. ']}'
  end
end

function request()
  return wrk.format("POST", "/v1/verify", { ["Content-Type"] = "application/json" }, bodies[math.random(#bodies)])
end

function response(status, headers, body)
  if status < 200 or status > 299 then errors = errors + 1 end
end

local threads = {}
function setup(thread) threads[#threads + 1] = thread end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + (t:get("errors") or 0) end
  io.write(string.format("non_2xx %d\n", total))
end
