-- wrk script for bench/http_bench.sh. Env WRK_MODE picks the requests:
--   get     GET a random target from the file WRK_PATHS (one per line),
--           with the Accept header WRK_ACCEPT (default application/json);
--   verify  POST /v1/verify with WRK_BATCH (default 1000) codes per body,
--           taken at random from the code texts in WRK_CODES; WRK_BODIES
--           (default 16) bodies are built per thread, then reused at random.
-- Non-2xx answers are counted and printed as "non_2xx N" at the end, so
-- the runner can flag a run that measured errors instead of answers.
local mode = os.getenv("WRK_MODE") or "get"
local lines = {}
local bodies = {}
local accept = os.getenv("WRK_ACCEPT") or "application/json"
errors = 0  -- global: done() reads it from each thread

local function read_lines(name)
  local file = assert(io.open(assert(os.getenv(name), name .. " is not set"), "r"))
  local out = {}
  for line in file:lines() do
    if #line > 0 then out[#out + 1] = line end
  end
  file:close()
  assert(#out > 0, "no lines in " .. os.getenv(name))
  return out
end

function init(args)
  math.randomseed(os.time() + tonumber(tostring(lines):match("0x(%x+)") or "0", 16))
  if mode == "verify" then
    local codes = read_lines("WRK_CODES")
    local batch = tonumber(os.getenv("WRK_BATCH") or "1000")
    for b = 1, tonumber(os.getenv("WRK_BODIES") or "16") do
      local parts = {}
      for i = 1, batch do
        -- code texts are URIs: no quotes or backslashes to escape
        parts[i] = '"' .. codes[math.random(#codes)] .. '"'
      end
      bodies[b] = '{"codes":[' .. table.concat(parts, ",") .. ']}'
    end
  else
    lines = read_lines("WRK_PATHS")
  end
end

function request()
  if mode == "verify" then
    return wrk.format("POST", "/v1/verify", { ["Content-Type"] = "application/json" }, bodies[math.random(#bodies)])
  end
  return wrk.format("GET", lines[math.random(#lines)], { ["Accept"] = accept })
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
