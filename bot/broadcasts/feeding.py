"""The scripts that feed a broadcast's stream from the live subscriber lists, and take a chat
out of a broadcast being sent (bot/broadcasts/queue.py runs them).

A broadcast's audience is whoever had joined when it started: join score at or below its cut-off
(bot/broadcasts/store.py). It is never copied: the feed walks the lists themselves, keeping its
place as the (join score, chat id) of the last chat it queued.
"""

from __future__ import annotations

# Where the feed stands in a subscriber set: after the last chat it queued, by (join score, chat
# id), the chat perhaps gone since.
_PLACES = """
-- The order of members of equal score in a sorted set: their bytes, then their length.
local function later(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return #a > #b
end
-- The rank of the first member after (score, chat); ties are searched by halves.
local function first_after(key, score, chat)
  if not score then return 0 end
  local low = redis.call('ZCOUNT', key, '-inf', '(' .. score)
  local high = redis.call('ZCOUNT', key, '-inf', score)
  while low < high do
    local middle = math.floor((low + high) / 2)
    if later(redis.call('ZRANGE', key, middle, middle)[1], chat) then
      high = middle
    else
      low = middle + 1
    end
  end
  return low
end
"""

# KEYS: job, stream, then per locale its subscriber set and (from the release before this one)
# the broadcast's recipients snapshot. ARGV: chunk size, then the locales in that order.
# Queues up to a chunk more of the audience (join score at or below the cut-off) in the order of
# (join score, chat id) over every language at once, after the last one queued: a subscriber
# moving to another language keeps their score, so stays behind or ahead of that point, and
# who leaves or joins anywhere never shifts it. Reads its own cursor, so two feeders at once
# cannot queue anyone twice. Finding nobody left, it marks the broadcast fed (answer 0) and
# takes out of the total whoever left before being reached.
FEED = _PLACES + """
if redis.call('HGET', KEYS[1], 'status') ~= 'sending' then return -1 end
local chunk = tonumber(ARGV[1])
local function queue(chat, locale)
  redis.call('XADD', KEYS[2], '*', 'chat', chat, 'locale', locale)
end
local cutoff = redis.call('HGET', KEYS[1], 'cutoff')
if not cutoff then
  -- Started by the release before this one: fed from its snapshots, language after language.
  for i = 3, #KEYS, 2 do
    local locale = ARGV[(i + 1) / 2]
    local fed = tonumber(redis.call('HGET', KEYS[1], 'cursor:' .. locale) or '0')
    local ids = redis.call('ZRANGE', KEYS[i + 1], fed, fed + chunk - 1)
    if #ids > 0 then
      for _, id in ipairs(ids) do queue(id, locale) end
      redis.call('HSET', KEYS[1], 'cursor:' .. locale, fed + #ids)
      return #ids
    end
  end
  redis.call('HSET', KEYS[1], 'fed', 1)
  return 0
end
cutoff = tonumber(cutoff)
local last = redis.call('HMGET', KEYS[1], 'fed-score', 'fed-chat')
-- A share of the chunk from each list, merged by score until one that may hold more runs out:
-- fetching a whole chunk from each cost more than the merge itself.
local share = math.ceil(chunk / ((#KEYS - 2) / 2))
local lists = {}
for i = 3, #KEYS, 2 do
  local first = first_after(KEYS[i], last[1], last[2])
  local found = redis.call('ZRANGE', KEYS[i], first, first + share - 1, 'WITHSCORES')
  lists[#lists + 1] = {
    found = found, at = 1, score = tonumber(found[2]), more = #found == 2 * share,
    locale = ARGV[(i + 1) / 2],
  }
end
local count, score, chat = 0, nil, nil
while count < chunk do
  local pick
  for _, list in ipairs(lists) do
    if list.score and list.score <= cutoff and (not pick or list.score < pick.score
        or (list.score == pick.score and later(pick.found[pick.at], list.found[list.at]))) then
      pick = list
    end
  end
  if not pick then break end
  chat, score = pick.found[pick.at], pick.found[pick.at + 1]
  queue(chat, pick.locale)
  count = count + 1
  pick.at = pick.at + 2
  pick.score = tonumber(pick.found[pick.at + 1])
  if not pick.score and pick.more then break end
end
if count > 0 then
  redis.call('HSET', KEYS[1], 'fed-score', score, 'fed-chat', chat)
  redis.call('HINCRBY', KEYS[1], 'unfed', -count)
elseif redis.call('HSETNX', KEYS[1], 'fed', 1) == 1 then
  local unfed = tonumber(redis.call('HGET', KEYS[1], 'unfed') or '0')
  redis.call('HINCRBY', KEYS[1], 'total', -unfed)
  redis.call('HDEL', KEYS[1], 'unfed')
end
return count
"""

# KEYS: job, stream, in-flight, then per locale its subscriber set and (from the release before
# this one) the broadcast's recipients snapshot. ARGV: chat id, group, then the locales.
# For /forget, once the chat has left the subscriber lists (so the feed never reaches it): the
# chat leaves the stream, so no sender reaches it (one holding the entry finds it gone when it
# marks it), and the feed's place, should it name the chat, names the chat before it at the
# same score instead ('' if none), which stands at the same place: the id stays nowhere. A send
# already on the wire is left to finish and be recorded, never to be tried again if it must
# wait (`erased:<entry>`, which the step script reads). A snapshot's feed cursor moves back for
# a removal behind it, so nobody after the chat is skipped; what is taken out unsent leaves the
# total too. Returns how many.
REMOVE = _PLACES + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local last = redis.call('HMGET', KEYS[1], 'fed-score', 'fed-chat')
if last[2] == ARGV[1] then
  local before = ''
  for i = 4, #KEYS, 2 do
    local rank = first_after(KEYS[i], last[1], last[2])
    local prior = rank > 0 and redis.call('ZRANGE', KEYS[i], rank - 1, rank - 1, 'WITHSCORES')
    if prior and tonumber(prior[2]) == tonumber(last[1]) and later(prior[1], before) then
      before = prior[1]
    end
  end
  redis.call('HSET', KEYS[1], 'fed-chat', before)
end
local removed = 0
for i = 5, #KEYS, 2 do
  local rank = redis.call('ZRANK', KEYS[i], ARGV[1])
  if rank then
    redis.call('ZREM', KEYS[i], ARGV[1])
    local cursor = 'cursor:' .. ARGV[(i + 1) / 2]
    local fed = tonumber(redis.call('HGET', KEYS[1], cursor) or '0')
    if rank < fed then
      redis.call('HSET', KEYS[1], cursor, fed - 1)
    else
      removed = removed + 1
    end
  end
end
for _, entry in ipairs(redis.call('XRANGE', KEYS[2], '-', '+')) do
  local fields = entry[2]
  for j = 1, #fields, 2 do
    if fields[j] == 'chat' and fields[j + 1] == ARGV[1] then
      if redis.call('HEXISTS', KEYS[3], entry[1]) == 1 then
        redis.call('HSET', KEYS[1], 'erased:' .. entry[1], 1)
      else
        redis.pcall('XACK', KEYS[2], ARGV[2], entry[1])
        redis.call('XDEL', KEYS[2], entry[1])
        removed = removed + 1
      end
    end
  end
end
if removed > 0 then redis.call('HINCRBY', KEYS[1], 'total', -removed) end
return removed
"""
