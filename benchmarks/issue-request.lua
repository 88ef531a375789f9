-- wrk script: issue requests for random users, as an administrator acting for them (administrators are not
-- rate-limited per user), with the token from $TOKEN, over the policies of $POLICIES (comma-separated ids), or the
-- request path of $REQUEST_PATH.
local token = os.getenv("TOKEN")
local path = os.getenv("REQUEST_PATH")
local policies = {}
for id in string.gmatch(os.getenv("POLICIES") or "", "[^,]+") do
  policies[#policies + 1] = "/api/coupon-policies/" .. id .. "/requests"
end
if #policies == 0 then
  policies[1] = path
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if token and #token > 0 then
  wrk.headers["Authorization"] = "Bearer " .. token
end

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed)
end

request = function()
  return wrk.format(nil, policies[math.random(1, #policies)], nil, '{"userId":' .. math.random(1, 2000000000) .. '}')
end
