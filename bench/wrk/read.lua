-- wrk script: GET /v1/cases/{ref}, cycling through the references listed one per line in the file
-- named by REDRESS_REFS (each thread starts at a different place). Needs REDRESS_TOKEN.
local token = os.getenv("REDRESS_TOKEN") or ""
local refs = {}
for line in io.lines(os.getenv("REDRESS_REFS")) do
  if #line > 0 then refs[#refs + 1] = line end
end
-- The requests are made in init, once wrk knows the host: made at load time they would carry no
-- Host header, which Redress refuses (RFC 9112 §3.2).
local requests = {}
local i = 1

init = function(args)
  for n, ref in ipairs(refs) do
    requests[n] = wrk.format("GET", "/v1/cases/" .. ref,
                             {["Host"] = wrk.headers["Host"], ["Authorization"] = "Bearer " .. token})
  end
  i = math.random(1, #requests)
end

request = function()
  i = i % #requests + 1
  return requests[i]
end
