-- ytvc-rate-limit: one sliding-window decision, atomically, in one round trip.
-- KEYS[1]  the key's state (a hash): 'l' = latest decision instant, 'W'/'B' = the
--          policy the counters were made for, '<k>' = units counted in bucket k.
-- ARGV     limit, window_ms, buckets, cost, consume ('1' / '0'),
--          now_ms ('' = use Redis TIME; tests pass a time).
-- Returns  { outcome (0 allowed, 1 limited, 2 cost > limit), remaining,
--            now_ms, reset_at_ms, retry_at_ms (-1 when none) }
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local W = tonumber(ARGV[2])
local B = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local consume = ARGV[5] == '1'
local now
if ARGV[6] ~= nil and ARGV[6] ~= '' then
  now = tonumber(ARGV[6])
else
  local tm = redis.call('TIME')
  now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
end

local function geometry(win, b)
  local w = math.floor((win + b - 1) / b)
  if w < 1 then w = 1 end
  return w, win + w
end
local function f(x) return string.format('%.0f', x) end

local raw = redis.call('HGETALL', key)
local last, oW, oB = nil, nil, nil
local ks, cs, names = {}, {}, {}
for i = 1, #raw, 2 do
  local name = raw[i]
  local v = tonumber(raw[i + 1])
  if name == 'l' then last = v
  elseif name == 'W' then oW = v
  elseif name == 'B' then oB = v
  else
    ks[#ks + 1] = tonumber(name); cs[#cs + 1] = v; names[#names + 1] = name
  end
end
local w, span = geometry(W, B)
-- Time never goes backwards per key past the start of the newest bucket.
local t = now
if last ~= nil then
  local lw = w
  if oW ~= nil then lw = geometry(oW, oB) end
  local head_start = math.floor(last / lw) * lw
  if head_start > t then t = head_start end
end
local k_now = math.floor(t / w)
local dels = {}
local live = {}
local migrated = 0
if oW ~= nil and (oW ~= W or oB ~= B) then
  -- Another window: every unit still counted moves to the current bucket.
  local ow, ospan = geometry(oW, oB)
  for i = 1, #ks do
    if ks[i] * ow + ospan > t then migrated = migrated + cs[i] end
    dels[#dels + 1] = names[i]
  end
  if migrated > 0 then live[1] = { k_now, migrated } end
else
  for i = 1, #ks do
    if ks[i] * w + span > t then live[#live + 1] = { ks[i], cs[i] }
    else dels[#dels + 1] = names[i] end
  end
  table.sort(live, function(a, b) return a[1] < b[1] end)
end

local used = 0
for i = 1, #live do used = used + live[i][2] end
local function expiry(need)
  local cum = 0
  for i = 1, #live do
    cum = cum + live[i][2]
    if cum >= need then return live[i][1] * w + span end
  end
  return k_now * w + span
end

local outcome, used_after, retry_at = 0, used, -1
if cost > limit then
  outcome = 2
elseif used + cost <= limit then
  if consume then
    used_after = used + cost
    if cost > 0 then
      if #live > 0 and live[#live][1] == k_now then
        live[#live][2] = live[#live][2] + cost
      else
        live[#live + 1] = { k_now, cost }
      end
    end
  end
else
  outcome = 1
  retry_at = expiry(used + cost - limit)
end
local remaining = limit - used_after
if remaining < 0 then remaining = 0 end
local reset_at
if used_after == 0 then reset_at = t
elseif remaining == 0 then reset_at = expiry(used_after + 1 - limit)
else reset_at = expiry(1) end

if consume then
  if #dels > 0 then redis.call('HDEL', key, unpack(dels)) end
  if used_after == 0 then
    redis.call('DEL', key)
  else
    if migrated > 0 then redis.call('HSET', key, f(k_now), f(migrated)) end
    if outcome == 0 and cost > 0 then redis.call('HINCRBY', key, f(k_now), cost) end
    redis.call('HSET', key, 'l', f(t), 'W', f(W), 'B', f(B))
    redis.call('PEXPIRE', key, f(live[#live][1] * w + span - t))
  end
end
return { outcome, remaining, t, reset_at, retry_at }
