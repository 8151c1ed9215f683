namespace Proxy.Redis;

/// <summary>
/// The Lua run by <see cref="RedisBudgetStore"/>: one EVAL per read or charge, on Redis's own clock (<c>TIME</c>).
/// KEYS[i] is budget i's base name (<c>{prefix}:budget:key:team-a:m</c>); its counters are <c>base:&lt;start&gt;</c>,
/// the period's start in Unix seconds, mirroring <c>Proxy.Budgets.BudgetPeriod.Bounds</c>: a UTC day, a UTC month
/// (civil-calendar arithmetic below), or for a rolling window of H hours the hourly buckets <c>start - (H-1)*3600 ..
/// start</c>, summed. All names share the prefix's hash tag, so in a cluster they sit in one slot with their base key.
/// Amounts are integer nano-USD; INCRBY keeps each counter exact, and sums stay exact below 2^53 (budgets are capped
/// at $1,000,000).
/// </summary>
internal static class BudgetScripts
{
    private const string Prelude = """
        if redis.replicate_commands then redis.replicate_commands() end
        local t = redis.call('TIME')
        local sec = tonumber(t[1])
        local nowMs = sec * 1000 + math.floor(tonumber(t[2]) / 1000)

        -- Days since 1970-01-01 <-> proleptic Gregorian year and month (H. Hinnant's civil_from_days / days_from_civil).
        local function civil(days)
          local z = days + 719468
          local era = math.floor(z / 146097)
          local doe = z - era * 146097
          local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
          local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
          local mp = math.floor((5 * doy + 2) / 153)
          local m = mp < 10 and mp + 3 or mp - 9
          local y = yoe + era * 400
          if m <= 2 then y = y + 1 end
          return y, m
        end
        local function daysFrom(y, m)
          if m <= 2 then y = y - 1 end
          local era = math.floor(y / 400)
          local yoe = y - era * 400
          local mp = m > 2 and m - 3 or m + 9
          local doy = math.floor((153 * mp + 2) / 5)
          return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
        end

        -- The current counter's start and when the budget is next whole: kind 0 day, 1 month, 2 rolling (hourly buckets).
        local function bounds(kind)
          if kind == 0 then local s = sec - sec % 86400; return s, s + 86400 end
          if kind == 1 then
            local y, m = civil(math.floor(sec / 86400))
            local ny, nm = y, m + 1
            if nm == 13 then ny, nm = y + 1, 1 end
            return daysFrom(y, m) * 86400, daysFrom(ny, nm) * 86400
          end
          local h = sec - sec % 3600
          return h, h + 3600
        end

        -- What budget i holds now: its period's counter, or the sum of its window's buckets.
        local function spent(base, kind, hours, s)
          if kind ~= 2 then return tonumber(redis.call('GET', base .. ':' .. string.format('%d', s)) or '0') end
          local names = {}
          for k = 0, hours - 1 do names[#names + 1] = base .. ':' .. string.format('%d', s - k * 3600) end
          local v = redis.call('MGET', unpack(names))
          local sum = 0
          for k = 1, #v do if v[k] then sum = sum + tonumber(v[k]) end end
          return sum
        end

        """;

    /// <summary>
    /// Read: ARGV holds two per budget from j = 2(i-1)+1: kind (0 day, 1 month, 2 rolling), hours (rolling).
    /// Returns { now ms (Redis), then per budget: spent nano-USD, reset (Unix seconds) }. Writes nothing.
    /// </summary>
    public const string Read = Prelude + """
        local out = { nowMs }
        for i = 1, #KEYS do
          local kind, hours = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
          local s, reset = bounds(kind)
          out[#out + 1] = spent(KEYS[i], kind, hours, s)
          out[#out + 1] = reset
        end
        return out
        """;

    /// <summary>
    /// Charge: ARGV[1] the amount (nano-USD, &gt; 0), then two per budget from j = 2(i-1)+2: kind, hours. INCRBY on each
    /// budget's current counter, which expires an hour after it stops counting (a day or month's end; a bucket's
    /// leaving the window), never sooner than it already would (windows of different lengths share buckets). Returns
    /// what <see cref="Read"/> does, after the charge.
    /// </summary>
    public const string Charge = Prelude + """
        local amount = ARGV[1]
        local out = { nowMs }
        for i = 1, #KEYS do
          local kind, hours = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
          local s, reset = bounds(kind)
          local key = KEYS[i] .. ':' .. string.format('%d', s)
          local total = redis.call('INCRBY', key, amount)
          local expireAt = reset + 3600
          if kind == 2 then expireAt = s + hours * 3600 + 3600 end
          local ttl = redis.call('TTL', key)
          if ttl < 0 or ttl < expireAt - sec then redis.call('EXPIREAT', key, expireAt) end
          if kind == 2 then total = spent(KEYS[i], kind, hours, s) end
          out[#out + 1] = total
          out[#out + 1] = reset
        end
        return out
        """;
}
