namespace Proxy.Redis;

/// <summary>
/// The Lua run by <see cref="RedisLimitStore"/>: each call is one EVAL (EVALSHA after the first; StackExchange.Redis
/// resends the source on NOSCRIPT). Every decision reads Redis's own clock (<c>TIME</c>), never the caller's, so all
/// replicas share one clock.
/// <para>
/// Windows (requests, tokens per minute) mirror <c>Proxy.Limits.SlidingWindow</c>: a hash per counter holding one
/// field per one-second slot (the slot's second since the epoch, e.g. <c>1767225600</c> -> its count), plus
/// <c>sum</c> (what the slots in the window hold together) and <c>newest</c> (the latest slot advanced to). At second
/// <c>now</c> the window is slots <c>now-59 .. now</c>: advancing from <c>newest</c> removes slots
/// <c>newest-59 .. now-60</c> (subtracting them from <c>sum</c>), and a gap of 60 s or more drops the whole hash.
/// Every write sets PEXPIRE 61 s: a slot written now leaves the window within 60 s, so an idle counter vanishes.
/// </para>
/// <para>
/// Concurrency is a sorted set per counter: member = lease id, score = the lease's expiry in ms on Redis's clock.
/// Expired members (score &lt;= now) are removed before counting, so a replica that died without settling frees its
/// leases once they run out. The set's own PEXPIRE is kept at least as long as the lease just written.
/// </para>
/// </summary>
internal static class LimitScripts
{
    /// <summary>Shared prelude: effect replication on old Redis, the clock, and the window advance.</summary>
    private const string Prelude = """
        if redis.replicate_commands then redis.replicate_commands() end
        local t = redis.call('TIME')
        local sec = tonumber(t[1])
        local nowMs = sec * 1000 + math.floor(tonumber(t[2]) / 1000)
        local W, KEEP = 60, 61000

        -- SlidingWindow.Advance: forget the slots that left the window at sec. Returns sum and the current slot (the
        -- newest; it stays ahead of sec if the clock ever stepped back). A missing or stale hash starts empty with no
        -- write, so a refusal never creates a key without an expiry.
        local function advance(key)
          local h = redis.call('HMGET', key, 'sum', 'newest')
          local sum, newest = tonumber(h[1]) or 0, tonumber(h[2])
          if not newest or sec - newest >= W then
            if newest then redis.call('DEL', key) end
            return 0, sec
          end
          if sec <= newest then return sum, newest end
          local gone = {}
          for s = newest - W + 1, sec - W do gone[#gone + 1] = tostring(s) end
          if #gone > 0 then
            local v = redis.call('HMGET', key, unpack(gone))
            for i = 1, #gone do if v[i] then sum = sum - tonumber(v[i]) end end
            redis.call('HDEL', key, unpack(gone))
          end
          redis.call('HMSET', key, 'sum', sum, 'newest', sec)
          return sum, sec
        end

        -- ms until slot s leaves the window (it counts through second s+59): SlidingWindow.Until.
        local function untilGone(s) return math.max(0, (s + W) * 1000 - nowMs) end

        -- Members a lease of cost n holds: the lease id, then id#2 .. id#n.
        local function member(lease, k) if k == 1 then return lease end return lease .. '#' .. k end

        -- Keep a set alive at least ttl ms (never shorten it for the other leases in it).
        local function keepFor(key, ttl)
          if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
        end

        """;

    /// <summary>
    /// Admit: KEYS[i] is check i's counter. ARGV[1] lease id, ARGV[2] lease ttl ms, then four per check from
    /// j = 3 + 4(i-1): kind (0 window, 1 concurrency), limit, cost, shadow (1/0).
    /// Decides every check first; takes from all only when every non-shadow check fits.
    /// Returns { slot (Redis seconds), then per check: fits (1/0), remaining, reset ms, retry-after ms }.
    /// </summary>
    public const string Admit = Prelude + """
        local lease, ttl = ARGV[1], tonumber(ARGV[2])
        local n = #KEYS
        local kind, limit, cost, shadow = {}, {}, {}, {}
        local sum, cur, fits, retry, slots = {}, {}, {}, {}, {}
        local admitted = true

        -- The 60 slots now-59 .. now of a window (slots[k] is slot cur-60+k), read once and only when needed.
        local function window(i)
          if not slots[i] then
            local f = {}
            for k = 1, W do f[k] = tostring(cur[i] - W + k) end
            local v = redis.call('HMGET', KEYS[i], unpack(f))
            for k = 1, W do v[k] = tonumber(v[k]) or 0 end
            slots[i] = v
          end
          return slots[i]
        end

        -- SlidingWindow.Reset: until the newest non-empty slot leaves (0 when the window is empty).
        local function reset(i)
          local v = window(i)
          for k = W, 1, -1 do if v[k] ~= 0 then return untilGone(cur[i] - W + k) end end
          return 0
        end

        -- SlidingWindow.RetryAfter: the over-limit part must leave first, oldest slots first; a cost above the limit
        -- never fits, so a full minute.
        local function retryAfter(i)
          local over = sum[i] + cost[i] - limit[i]
          if cost[i] > limit[i] then return 60000 end
          local v = window(i)
          for k = 1, W do
            over = over - v[k]
            if over <= 0 then return untilGone(cur[i] - W + k) end
          end
          return 60000
        end

        -- Decide every check.
        for i = 1, n do
          local j = 3 + 4 * (i - 1)
          kind[i], limit[i], cost[i], shadow[i] = tonumber(ARGV[j]), tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2]), ARGV[j + 3] == '1'
          if kind[i] == 1 then
            redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', nowMs)
            sum[i] = redis.call('ZCARD', KEYS[i])
            fits[i] = sum[i] + cost[i] <= limit[i]
            retry[i] = 0
            if not fits[i] then
              -- A lease frees up when the earliest one expires, or is settled (asked again after a second).
              retry[i] = 1000
              local first = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
              if first[2] then retry[i] = math.max(1, math.min(1000, tonumber(first[2]) - nowMs)) end
            end
          else
            sum[i], cur[i] = advance(KEYS[i])
            fits[i] = sum[i] + cost[i] <= limit[i]
            retry[i] = 0
            if not fits[i] then retry[i] = retryAfter(i) end
          end
          if not fits[i] and not shadow[i] then admitted = false end
        end

        -- Take from every check (shadow ones too) or from none, and answer.
        local out = { sec }
        for i = 1, n do
          local key, rst = KEYS[i], 0
          if kind[i] == 1 then
            if admitted then
              for k = 1, cost[i] do redis.call('ZADD', key, nowMs + ttl, member(lease, k)) end
              keepFor(key, ttl)
            end
          elseif admitted and cost[i] > 0 then
            local s = tostring(cur[i])
            redis.call('HINCRBY', key, s, cost[i])
            redis.call('HINCRBY', key, 'sum', cost[i])
            redis.call('HSET', key, 'newest', cur[i])
            redis.call('PEXPIRE', key, KEEP)
            rst = untilGone(cur[i])
          else
            rst = reset(i)
          end
          local took = 0
          if fits[i] then took = cost[i] end
          out[#out + 1] = fits[i] and 1 or 0
          out[#out + 1] = math.max(0, limit[i] - sum[i] - took)
          out[#out + 1] = rst
          out[#out + 1] = retry[i]
        end
        return out
        """;

    /// <summary>
    /// Settle: KEYS[i] is check i's counter. ARGV[1] lease id, ARGV[2] the slot tokens were reserved in, then two per
    /// check from j = 3 + 2(i-1): kind (0 tokens, 1 concurrency) and a number: for tokens the correction
    /// (used - reserved), for concurrency the lease's cost. SlidingWindow.Adjust: while the reserved slot is in the
    /// window it takes the correction, never going below zero; after it left, only a growth counts, in the current slot.
    /// </summary>
    public const string Settle = Prelude + """
        local lease, slot = ARGV[1], tonumber(ARGV[2])
        for i = 1, #KEYS do
          local key = KEYS[i]
          local j = 3 + 2 * (i - 1)
          local kind, x = tonumber(ARGV[j]), tonumber(ARGV[j + 1])
          if kind == 1 then
            for k = 1, x do redis.call('ZREM', key, member(lease, k)) end
          else
            local _, cur = advance(key)
            local target, applied = nil, 0
            if slot > cur - W and slot <= cur then
              target = tostring(slot)
              applied = math.max(x, -(tonumber(redis.call('HGET', key, target)) or 0))
            elseif x > 0 then
              target, applied = tostring(cur), x
            end
            if applied ~= 0 then
              if redis.call('HINCRBY', key, target, applied) == 0 then redis.call('HDEL', key, target) end
              redis.call('HINCRBY', key, 'sum', applied)
              redis.call('HSET', key, 'newest', cur)
              redis.call('PEXPIRE', key, KEEP)
            end
          end
        end
        return 1
        """;

    /// <summary>
    /// Renew: KEYS[i] is a concurrency counter, ARGV[1] lease id, ARGV[2] ttl ms, ARGV[2+i] the lease's cost there.
    /// Moves only leases still in the set (ZADD XX): one that was pruned after it expired (and may have been given to
    /// another request since) is not brought back. Returns how many leases moved.
    /// </summary>
    public const string Renew = Prelude + """
        local lease, ttl = ARGV[1], tonumber(ARGV[2])
        local renewed = 0
        for i = 1, #KEYS do
          local n = 0
          for k = 1, tonumber(ARGV[2 + i]) do
            local m = member(lease, k)
            if redis.call('ZSCORE', KEYS[i], m) then
              redis.call('ZADD', KEYS[i], 'XX', nowMs + ttl, m)
              n = n + 1
            end
          end
          if n > 0 then keepFor(KEYS[i], ttl) end
          renewed = renewed + n
        end
        return renewed
        """;
}
