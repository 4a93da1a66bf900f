-- wrk script: GET /v1/cases/{ref}, cycling through the references listed one per line in the file
-- named by REDRESS_REFS (each thread starts at a different place). Needs REDRESS_TOKEN.
local token = os.getenv("REDRESS_TOKEN") or ""
local refs = {}
for line in io.lines(os.getenv("REDRESS_REFS")) do
  if #line > 0 then refs[#refs + 1] = line end
end
local requests = {}
for i, ref in ipairs(refs) do
  requests[i] = wrk.format("GET", "/v1/cases/" .. ref, {["Authorization"] = "Bearer " .. token})
end
local i = math.random(1, #requests)

request = function()
  i = i % #requests + 1
  return requests[i]
end
