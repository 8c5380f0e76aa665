-- bench/target_heartbeat.lua - wrk script: POSTs a heartbeat (JSON, Bearer auth) for agent ids
-- cycling over ag-PREFIX-00001..AGENTS, as a fleet would. Closed loop for bench/target_bench.sh;
-- with HEARTBEAT_MS set, the open-loop peer of bench/fleet_bench.sh: each connection sends its
-- first heartbeat at a uniform random time within one interval, then one every interval
-- +/- 10 % after the previous answer (a fleet agent's jittered heartbeat timer).
-- Environment: API_KEY (required; never printed), AGENTS (default 5000), PREFIX (loadtest),
-- HEARTBEAT_MS (unset: closed loop), CONNS_PER_THREAD (with HEARTBEAT_MS: wrk's -c / -t).
local key = os.getenv("API_KEY")
if key == nil or key == "" then
  error("API_KEY is not set")
end
local agents = tonumber(os.getenv("AGENTS") or "5000")
local prefix = os.getenv("PREFIX") or "loadtest"
local period_ms = tonumber(os.getenv("HEARTBEAT_MS") or "")

wrk.method = "POST"
wrk.body = '{"architecture":"amd64","hostname":"bench.fleet.example.test",' ..
           '"ip_address":"127.0.0.1","os":"linux","version":"2.1.0"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key

counter = 0  -- global, so that setup() can start each thread elsewhere

function setup(thread)
  -- spread the threads over different agents
  thread:set("counter", math.random(0, agents - 1))
end

function request()
  counter = counter + 1
  local i = (counter % agents) + 1
  return wrk.format(nil, string.format("/api/v1/agents/ag-%s-%05d/heartbeat", prefix, i))
end

if period_ms ~= nil then
  local conns = tonumber(os.getenv("CONNS_PER_THREAD") or "")
  if conns == nil then
    error("CONNS_PER_THREAD is not set")
  end
  local delays = 0
  -- wrk asks for a delay before every request, the first ones as its connections open
  function delay()
    delays = delays + 1
    if delays <= conns then
      return math.random(0, period_ms - 1)
    end
    return math.random(math.floor(period_ms * 0.9), math.floor(period_ms * 1.1))
  end
end
