-- wrk script: POST /v1/cases with a JSON body (no Idempotency-Key: every request creates a case).
-- The subject carries a per-thread counter so that bodies differ. Needs REDRESS_TOKEN.
local token = os.getenv("REDRESS_TOKEN") or ""
local counter = 0
local thread_tag = os.time() .. "-" .. tostring({}):match("0x(%x+)")

request = function()
  counter = counter + 1
  local body = '{"client":{"name":"Ana Ruiz","email":"ana@example.org"},"channel":"web","category":"billing",' ..
               '"touchpoint":"billing","subject":"Charged twice ' .. thread_tag .. '-' .. counter .. '",' ..
               '"description":"I was charged twice for one order.","workflow":"retail"}'
  return wrk.format("POST", "/v1/cases",
                    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
