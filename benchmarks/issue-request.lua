-- wrk script: issue requests for random users, as an administrator acting for them (administrators are not
-- rate-limited per user), with the token from $TOKEN and the policy's request path from $REQUEST_PATH.
local token = os.getenv("TOKEN")
local path = os.getenv("REQUEST_PATH")
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
  return wrk.format(nil, path, nil, '{"userId":' .. math.random(1, 2000000000) .. '}')
end
