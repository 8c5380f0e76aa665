-- bench/target_heartbeat.lua - wrk script for bench/target_bench.sh: POSTs a heartbeat (JSON,
-- Bearer auth) for agent ids cycling over ag-PREFIX-00001..AGENTS, as a fleet would.
-- Environment: API_KEY (required; never printed), AGENTS (default 5000), PREFIX (loadtest).
local key = os.getenv("API_KEY")
if key == nil or key == "" then
  error("API_KEY is not set")
end
local agents = tonumber(os.getenv("AGENTS") or "5000")
local prefix = os.getenv("PREFIX") or "loadtest"

wrk.method = "POST"
wrk.body = '{"architecture":"amd64","hostname":"bench.fleet.example.test",' ..
           '"ip_address":"127.0.0.1","os":"linux","version":"2.1.0"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key

local counter = 0

function setup(thread)
  -- spread the threads over different agents
  thread:set("counter", math.random(0, agents - 1))
end

function request()
  counter = counter + 1
  local i = (counter % agents) + 1
  return wrk.format(nil, string.format("/api/v1/agents/ag-%s-%05d/heartbeat", prefix, i))
end
