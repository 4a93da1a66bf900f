-- wrk script for the soak (bench/soak.sh): a mix of creations, actions, reads, list queries and
-- client-link reads. REDRESS_REFS names a file of "reference client-token" lines (cases made
-- before the run); cases this thread creates are remembered (their Location header) and take
-- the actions, so that no case grows without bound. REDRESS_DELAY_MS (default 0) is the pause
-- each connection makes before each request, which sets the rate. Needs REDRESS_TOKEN.
--   15% POST /v1/cases              10% POST /v1/cases/{ref}/messages (on a case made here)
--   45% GET /v1/cases/{ref}         10% GET /v1/cases?status=received&limit=20
--   10% GET /v1/client/{token}      10% GET /v1/cases/{ref}/events
local token = os.getenv("REDRESS_TOKEN") or ""
local delay_ms = tonumber(os.getenv("REDRESS_DELAY_MS") or "0")
local auth = {["Authorization"] = "Bearer " .. token}
local json_auth = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
local refs, links = {}, {}
for line in io.lines(os.getenv("REDRESS_REFS")) do
  local ref, link = line:match("^(%S+)%s+(%S+)$")
  if ref then
    refs[#refs + 1] = ref
    links[#links + 1] = link
  end
end
local recent, next_slot, ring = {}, 1, 500  -- the last `ring` cases this thread created
local counter = 0
local tag = tostring({}):match("0x(%x+)")
math.randomseed(os.time() + tonumber(tag, 16) % 100000)

local function any_ref()
  if #recent > 0 and math.random() < 0.5 then return recent[math.random(#recent)] end
  return refs[math.random(#refs)]
end

request = function()
  local p = math.random(100)
  if p <= 15 then
    counter = counter + 1
    local body = '{"client":{"name":"Ana Ruiz","email":"ana@example.org"},"channel":"web","category":"billing",' ..
                 '"subject":"Soak ' .. tag .. '-' .. counter .. '","description":"Charged twice.","workflow":"retail"}'
    return wrk.format("POST", "/v1/cases", json_auth, body)
  elseif p <= 25 and #recent > 0 then
    local body = '{"visibility":"internal","body":"Called the client back."}'
    return wrk.format("POST", "/v1/cases/" .. recent[math.random(#recent)] .. "/messages", json_auth, body)
  elseif p <= 70 then
    return wrk.format("GET", "/v1/cases/" .. any_ref(), auth)
  elseif p <= 80 then
    return wrk.format("GET", "/v1/cases?status=received&limit=20", auth)
  elseif p <= 90 then
    return wrk.format("GET", "/v1/client/" .. links[math.random(#links)])
  else
    return wrk.format("GET", "/v1/cases/" .. any_ref() .. "/events", auth)
  end
end

response = function(status, headers, body)
  if status == 201 then
    local location = headers["Location"]
    local ref = location and location:match("^/v1/cases/([%w%-]+)$")
    if ref then
      recent[next_slot] = ref
      next_slot = next_slot % ring + 1
    end
  end
end

if delay_ms > 0 then
  delay = function() return delay_ms end
end
