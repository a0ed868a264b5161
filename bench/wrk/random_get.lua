-- wrk script: GET a random path from the file named by env WRK_PATHS (one
-- request target per line), with the Accept header from env WRK_ACCEPT.
-- Counts non-2xx answers so the runner can refuse a run that measured
-- errors instead of answers.
local paths = {}
local accept = os.getenv("WRK_ACCEPT") or "application/json"
errors = 0  -- global: done() reads it from each thread

function init(args)
  local file = assert(io.open(os.getenv("WRK_PATHS"), "r"))
  for line in file:lines() do
    if #line > 0 then paths[#paths + 1] = line end
  end
  file:close()
  assert(#paths > 0, "no paths in " .. os.getenv("WRK_PATHS"))
  math.randomseed(os.time() + tonumber(tostring(paths):match("0x(%x+)") or "0", 16))
end

function request()
  return wrk.format("GET", paths[math.random(#paths)], { ["Accept"] = accept })
end

function response(status, headers, body)
  if status < 200 or status > 299 then errors = errors + 1 end
end

-- One line the runner greps: non-2xx answers (summed over threads in done).
local threads = {}
function setup(thread) threads[#threads + 1] = thread end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + (t:get("errors") or 0) end
  io.write(string.format("non_2xx %d\n", total))
end
