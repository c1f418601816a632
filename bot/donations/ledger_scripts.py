"""The ledger's Lua scripts: each change to the accounts is one of them, so it happens whole.

Kept apart from ledger.py, which calls them, for their length: every line here runs inside Redis.
"""

# KEYS: donation, totals, donors, timeline, reversal, outbox, beneficiary feed, milestones
# reached, referral totals, erasure marks, supporters' links' total, the supporter's link and
# its donors (both "" for a gift through none), and for a one-off gift with a Telegram user
# their one-off gifts and monthly gifts (absent otherwise), then the needs board's keys when the
# campaign lists needs (see its block).
# ARGV: the gift as JSON (`_gift`: one argument costs the client far less than twenty), the
# milestone step (0 for none), then the milestone amounts.
# The beneficiaries' feed and the milestones are written here too, so a crash can lose neither
# and a milestone crossed by two concurrent gifts is announced once. The erasure mark is read
# here too: a /forget marked before this runs leaves the gift anonymous, and one marked after
# finds it linked and anonymises it (bot/privacy.py), so none slips between the two.
# Returns 0 for a gift already recorded, 1 recorded with its donor, 2 recorded anonymous.
RECORD = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local gift = cjson.decode(ARGV[1])
local linked = gift.user ~= nil
if linked and gift.fingerprint then
  local forgotten = redis.call('HGET', KEYS[10], gift.fingerprint)
  if forgotten and tonumber(gift.object_created) <= tonumber(forgotten) then linked = false end
end
local amount = tonumber(gift.amount)
local reversed = redis.call('HMGET', KEYS[5], 'refunded', 'disputed')
local from_refunds = math.min(amount, tonumber(reversed[1] or '0'))
local from_disputes = math.min(amount - from_refunds, tonumber(reversed[2] or '0'))
local counted = amount - from_refunds - from_disputes
local hash = {'amount', gift.amount, 'refunded', from_refunds, 'disputed', from_disputes}
for name, value in pairs(gift.fields) do
  hash[#hash + 1] = name
  hash[#hash + 1] = value
end
-- A covered card fee stays beside the gift: raised, gross, milestones and referrals count what
-- donors gave for the cause, not what paid the card processor. A reversal noted before the gift
-- takes the gift first, only its excess the fee (as in REVERSE).
local fee = tonumber(gift.fee or '0')
if fee > 0 then
  local reversed_all = tonumber(reversed[1] or '0') + tonumber(reversed[2] or '0')
  local fee_back = math.min(fee, reversed_all - from_refunds - from_disputes)
  for _, v in ipairs({'covered_fee', fee, 'fee_reversed', fee_back}) do hash[#hash + 1] = v end
  redis.call('HINCRBY', KEYS[2], 'fees_covered', fee - fee_back)
end
local donor = gift.anonymous_donor
if linked then
  donor = gift.donor
  hash[#hash + 1] = 'telegram_user_id'
  hash[#hash + 1] = gift.user
  if gift.thanks_id then redis.call('HSET', KEYS[6], gift.thanks_id, gift.thanks) end
end
-- Tax receipts (bot/reports/receipts.py): the donor's name and address, kept only on a gift
-- that names its donor, so one who used /forget before this ran leaves none behind.
if linked and gift.details then
  for name, value in pairs(gift.details) do
    hash[#hash + 1] = name
    hash[#hash + 1] = value
  end
end
-- /mygift (bot/donations/donor_gifts.py): KEYS[14] the donor's one-off gifts and KEYS[15]
-- their monthly gifts, given for a one-off gift with a Telegram user. The first such gift from
-- someone giving monthly nowhere is thanked with the monthly suggestion instead: decided here,
-- so two first gifts at once cannot both be the first.
if linked and (KEYS[14] or '') ~= '' then
  if gift.suggesting and redis.call('ZCARD', KEYS[14]) == 0
      and redis.call('SCARD', KEYS[15]) == 0 then
    redis.call('HSET', KEYS[6], gift.thanks_id, gift.suggesting)
  end
  -- Stripe dates to the second: a gift in the same second as the newest one goes after it.
  local score = tonumber(gift.created)
  local newest = redis.call('ZREVRANGE', KEYS[14], 0, 0, 'WITHSCORES')[2]
  if newest and math.floor(tonumber(newest)) == score then score = tonumber(newest) + 0.001 end
  redis.call('ZADD', KEYS[14], score, gift.id)
end
redis.call('HSET', KEYS[1], unpack(hash))
redis.call('HINCRBY', KEYS[2], 'gross', amount)
local after = redis.call('HINCRBY', KEYS[2], 'raised', counted)
local before = after - counted
-- Most gifts were never refunded before they were recorded: no write for a zero.
if from_refunds > 0 then redis.call('HINCRBY', KEYS[2], 'refunded', from_refunds) end
if from_disputes > 0 then redis.call('HINCRBY', KEYS[2], 'disputed', from_disputes) end
redis.call('HINCRBY', KEYS[2], 'donations', 1)
if redis.call('SADD', KEYS[3], donor) == 1 then redis.call('HINCRBY', KEYS[2], 'donors', 1) end
redis.call('ZADD', KEYS[4], gift.created, gift.id)
if gift.referral then redis.call('ZINCRBY', KEYS[9], amount, gift.referral) end
-- A supporter's own link (/share, sharing.py), apart from the organizers' codes: the links'
-- total, and while its owner has not used /forget (checked again: they may have since the
-- caller looked) its money and distinct donors, and a word to the owner on its first gift.
if gift.shared then
  redis.call('HINCRBY', KEYS[11], 'gifts', 1)
  redis.call('HINCRBY', KEYS[11], 'amount', amount)
  if gift.sharer and redis.call('HGET', KEYS[12], 'user') == gift.sharer then
    redis.call('HINCRBY', KEYS[12], 'amount', amount)
    -- So a refund takes from this link's tally only what the gift brought it (REVERSE).
    redis.call('HSET', KEYS[1], 'shared_counted', gift.shared)
    if redis.call('SADD', KEYS[13], donor) == 1
        and redis.call('HINCRBY', KEYS[12], 'donors', 1) == 1 then
      redis.call('HSET', KEYS[6], gift.first_gift_id, gift.first_gift)
    end
  end
end
redis.call('RPUSH', KEYS[7], cjson.encode({kind = 'donation', id = gift.id}))
local crossed = {}
local step = tonumber(ARGV[2])
if step > 0 then
  for k = math.floor(before / step) + 1, math.floor(after / step) do
    table.insert(crossed, k * step)
  end
end
for i = 3, #ARGV do
  local m = tonumber(ARGV[i])
  if before < m and m <= after then table.insert(crossed, m) end
end
table.sort(crossed)
for _, m in ipairs(crossed) do
  if redis.call('SADD', KEYS[8], string.format('%.0f', m)) == 1 then
    redis.call('RPUSH', KEYS[7], cjson.encode({kind = 'milestone', amount = m}))
  end
end
-- The needs board (bot/donations/needs.py), when the campaign lists needs: KEYS[needs_at] its
-- summary, the next key the announcement marker of the gift's need ("" for a general gift), and
-- KEYS[14] and KEYS[15] are "" when not given. Counted with the gift, so a replayed event counts
-- once; the gift that fills its need leaves the marker its one broadcast is made from and tells
-- the beneficiaries, decided here so two gifts filling it together announce it once. The
-- gift's hash keeps its need ("" for the general pool) so a reversal takes it back from there.
-- A gift for a need already filled (a remembered choice, a page left open, a monthly renewal)
-- goes to the general pool, as the announcement of the need filled says; the test is the
-- board's own (NeedProgress.filled), so a need refunded below its target takes gifts again.
if gift.needs_at then
  local board = KEYS[tonumber(gift.needs_at)]
  if gift.need and tonumber(redis.call('HGET', board, 'need:' .. gift.need) or '0')
      >= tonumber(gift.need_goal) then
    gift.need = nil
  end
  redis.call('HSET', KEYS[1], 'need', gift.need or '')
  if gift.need then
    local cents = redis.call('HINCRBY', board, 'need:' .. gift.need, counted)
    if cents >= tonumber(gift.need_goal)
        and redis.call('HSETNX', board, 'filled:' .. gift.need, gift.id) == 1 then
      redis.call('HSET', KEYS[tonumber(gift.needs_at) + 1], 'token', gift.need_token)
      redis.call('RPUSH', KEYS[7], cjson.encode({kind = 'need_filled', need = gift.need}))
    end
  else
    redis.call('HINCRBY', board, 'general', counted)
  end
end
return linked and 1 or 2
"""

# KEYS: reversal, donation, totals, beneficiary feed, and the needs board when there are needs
# ARGV: kind ('refund' | 'dispute'), reference (dispute id), amount, payment intent, what a
# supporter's link key and a subscription key have before the code or id (see the last block)
# Refunds carry Stripe's cumulative amount_refunded, so a replay or a late, smaller refund event
# changes nothing; disputes are counted once per dispute id. Returns the change to `raised`.
REVERSE = """
if ARGV[1] == 'refund' then
  local old = tonumber(redis.call('HGET', KEYS[1], 'refunded') or '0')
  if tonumber(ARGV[3]) <= old then return 0 end
  redis.call('HSET', KEYS[1], 'refunded', ARGV[3])
else
  if redis.call('HSETNX', KEYS[1], 'dispute:' .. ARGV[2], ARGV[3]) == 0 then return 0 end
  redis.call('HINCRBY', KEYS[1], 'disputed', ARGV[3])
end
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
local amount = tonumber(redis.call('HGET', KEYS[2], 'amount'))
local refunded = tonumber(redis.call('HGET', KEYS[1], 'refunded') or '0')
local disputed = tonumber(redis.call('HGET', KEYS[1], 'disputed') or '0')
local from_refunds = math.min(amount, refunded)
local from_disputes = math.min(amount - from_refunds, disputed)
local old_refunds = tonumber(redis.call('HGET', KEYS[2], 'refunded') or '0')
local old_disputes = tonumber(redis.call('HGET', KEYS[2], 'disputed') or '0')
local delta = (from_refunds - old_refunds) + (from_disputes - old_disputes)
redis.call('HSET', KEYS[2], 'refunded', from_refunds, 'disputed', from_disputes)
if delta > 0 then
  redis.call('RPUSH', KEYS[4], cjson.encode({kind = ARGV[1], id = ARGV[4], amount = delta}))
end
redis.call('HINCRBY', KEYS[3], 'refunded', from_refunds - old_refunds)
redis.call('HINCRBY', KEYS[3], 'disputed', from_disputes - old_disputes)
redis.call('HINCRBY', KEYS[3], 'raised', -delta)
-- The needs board (bot/donations/needs.py), when the campaign lists needs: KEYS[5] its summary.
-- What is given back leaves the need the gift went to (or the general pool): the board never
-- counts money returned, as raised does not. A need already announced as filled is not
-- announced again if it fills anew: "filled" stays set.
if KEYS[5] then
  local need = redis.call('HGET', KEYS[2], 'need')
  if need then
    redis.call('HINCRBY', KEYS[5], need == '' and 'general' or 'need:' .. need, -delta)
  end
end
-- A covered fee (see RECORD): what the reversals take beyond the gift comes off the fee, so a
-- refund of the whole charge takes no more than the gift off raised, and the fee off
-- fees_covered. A partial refund takes the gift first: raised never shows money given back.
local fee = tonumber(redis.call('HGET', KEYS[2], 'covered_fee') or '0')
if fee > 0 then
  local fee_back = math.min(fee, refunded + disputed - from_refunds - from_disputes)
  local fee_back_before = tonumber(redis.call('HGET', KEYS[2], 'fee_reversed') or '0')
  redis.call('HSET', KEYS[2], 'fee_reversed', fee_back)
  redis.call('HINCRBY', KEYS[3], 'fees_covered', fee_back_before - fee_back)
end
-- What donors see of their giving leaves out money given back, as raised does: the /share
-- tally of the link the gift counted into (while its owner has not used /forget) and, for a
-- monthly gift's invoice counted into its `given` (bot/donations/monthly_gifts.py), that total.
-- Their keys are built here from the gift's own fields, read in this same step.
if delta ~= 0 then
  local shared = redis.call('HGET', KEYS[2], 'shared_counted')
  if shared and redis.call('HEXISTS', ARGV[5] .. shared, 'user') == 1 then
    redis.call('HINCRBY', ARGV[5] .. shared, 'amount', -delta)
  end
  local gift = redis.call('HMGET', KEYS[2], 'subscription', 'invoice')
  if gift[1] and gift[2]
      and redis.call('HEXISTS', ARGV[6] .. gift[1], 'invoice:' .. gift[2]) == 1 then
    redis.call('HINCRBY', ARGV[6] .. gift[1], 'given', -delta)
  end
end
return delta
"""

# KEYS: donors, supporter words, then the donor's donations. ARGV: the donor's key, an
# anonymous key in its place, then the donations' ids. The donor count must not drop when
# someone is forgotten: the donor stays, only anonymous. What they chose to show publicly (first
# name, words) leaves with their id: nobody could ask for it to be removed any more.
ANONYMISE_DONOR = """
if redis.call('SREM', KEYS[1], ARGV[1]) == 1 then redis.call('SADD', KEYS[1], ARGV[2]) end
for i = 3, #KEYS do
  redis.call('HDEL', KEYS[i], 'telegram_user_id', 'public_name', 'public_words')
  redis.call('LREM', KEYS[2], 0, ARGV[i])
  -- A tax receipt issued (numbered, bot/donations/receipt_numbers.py) must stay with the
  -- association, which answers for it to the tax office: its name and address stay, no
  -- longer tied to Telegram. Those of a gift whose receipt was not issued go.
  if redis.call('HEXISTS', KEYS[i], 'receipt') == 0 then
    redis.call('HDEL', KEYS[i], 'donor_name', 'donor_address')
  end
end
return #KEYS - 2
"""
