#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
#
# The baseline of bench/replay-vs-simpy: the same replay as `kefu replay` with one queue,
# written for SimPy 2 (Debian's python3-simpy 2.3, the SimPy.Simulation API), run with
# /usr/bin/python3. Same inputs as the Kefu model: arrivals at queue entry from an
# anonymous-bank log, observed staffing (each agent's services less than 30 minutes apart
# form one shift block), the call's own handle time when it was served, else one sampled
# from the served calls of its type and hour; patience from Kaplan-Meier over the queue
# waits (abandoned calls are events, answered ones censored), the own wait for calls that
# abandoned; priority-2 callers ahead of the others. An agent whose shift ends finishes
# the call in hand first.
#
#   replay_simpy.py FILE [--days N] [--seed S] [--count-only]
# prints "simpy: rows=... offered=... answered=... abandoned=... asa_s=... agents=... read_s=...
# model_s=... model_cpu_s=..." (read_s: reading the whole file; model_s: estimating inputs and
# simulating, wall and CPU).
import bisect
import random
import sys
import time
from collections import defaultdict

from SimPy.Simulation import (Process, PriorityQ, Resource, activate, hold, initialize, now,
                              release, request, simulate)

DAY = 86400.0
GAP = 30 * 60.0


def seconds(hms):
    h, m, s = hms.split(":")
    return int(h) * 3600 + int(m) * 60 + int(s)


def day_index(yymmdd):
    from datetime import date
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    return date(1900 + yy if yy >= 70 else 2000 + yy, mm, dd).toordinal()


def read_calls(path, days_limit):
    calls = []
    first_day = None
    rows = 0
    with open(path, newline="") as f:
        next(f)
        for line in f:
            rows += 1
            c = line.rstrip("\r\n").split("\t")
            if len(c) < 17:
                continue
            day = day_index(c[5])
            if first_day is None or day < first_day:
                first_day = day if first_day is None else first_day
            base = day * DAY
            arrival = base + seconds(c[6])
            vru_exit = base + seconds(c[7])
            if vru_exit < arrival - 3600:
                vru_exit += DAY
            q_time, ser_time = int(c[11]), int(c[15])
            outcome, prio, typ = c[12], int(c[3]), c[4]
            hour = int(c[6].split(":")[0]) % 24
            if outcome == "AGENT":
                start = base + seconds(c[13])
                if start < arrival - 3600:
                    start += DAY
                entry = base + seconds(c[9]) if q_time > 0 else min(vru_exit, start)
                if entry < arrival - 3600:
                    entry += DAY
                entry = max(arrival, min(entry, start))
                calls.append((entry, day, typ, hour, prio, max(0.0, start - entry),
                              float(ser_time), -1.0, c[16]))
            elif outcome == "HANG" and q_time > 0:
                entry = base + seconds(c[9])
                if entry < arrival - 3600:
                    entry += DAY
                entry = max(arrival, entry)
                calls.append((entry, day, typ, hour, prio, 0.0, -1.0, float(q_time), ""))
    calls.sort(key=lambda c: c[0])
    if days_limit:
        start_day = min(c[1] for c in calls)
        calls = [c for c in calls if c[1] < start_day + days_limit]
    return rows, calls


class KaplanMeier:
    def __init__(self, waits):  # (wait, abandoned?)
        waits.sort()
        s, at_risk, i = 1.0, len(waits), 0
        self.times, self.surv, self.events = [], [], 0
        while i < len(waits):
            j, died = i, 0
            while j < len(waits) and waits[j][0] == waits[i][0]:
                died += waits[j][1]
                j += 1
            if died:
                s *= 1.0 - died / at_risk
                self.times.append(waits[i][0])
                self.surv.append(s)
                self.events += died
            at_risk -= j - i
            i = j
        self.neg = [-v for v in self.surv]  # increasing, for bisect

    def survival(self, t):
        k = bisect.bisect_right(self.times, t)
        return 1.0 if k == 0 else self.surv[k - 1]

    def quantile(self, u):
        k = bisect.bisect_left(self.neg, -u)
        return None if k == len(self.times) else self.times[k]


class Stats:
    answered = abandoned = 0
    wait = 0.0


class Customer(Process):
    def run(self, agents, prio, handle, patience, stats):
        arrived = now()
        if patience is None:
            yield request, self, agents, prio
        else:
            yield (request, self, agents, prio), (hold, self, patience)
            if not self.acquired(agents):
                stats.abandoned += 1
                return
        stats.answered += 1
        stats.wait += now() - arrived
        yield hold, self, handle
        yield release, self, agents


class Source(Process):
    def run(self, calls, agents, model, stats):
        for c in calls:
            entry, _, typ, hour, prio, waited, handle, patience, _ = c
            if entry > now():
                yield hold, self, entry - now()
            if patience < 0:
                patience = model.patience(typ, waited)
            if handle < 0:
                handle = model.handle(typ, hour)
            cu = Customer()
            activate(cu, cu.run(agents, 1 if prio >= 2 else 0, handle, patience, stats))


class OffShift(Process):
    """Holds one agent place while that agent is off; a shift end waits for the call."""

    def run(self, agents, periods):
        for start, end in periods:
            if start > now():
                yield hold, self, start - now()
            yield request, self, agents, 1000
            if end > now():
                yield hold, self, end - now()
            yield release, self, agents


class Model:
    def __init__(self, calls, seed):
        self.rng = random.Random(seed)
        self.by_type_hour, self.by_type, self.all = defaultdict(list), defaultdict(list), []
        waits, all_waits = defaultdict(list), []
        for entry, _, typ, hour, _, waited, handle, patience, _ in calls:
            if handle >= 0:
                self.by_type_hour[(typ, hour)].append(handle)
                self.by_type[typ].append(handle)
                self.all.append(handle)
                waits[typ].append((waited, False))
            else:
                waits[typ].append((patience, True))
        for w in waits.values():
            all_waits.extend(w)
        self.km_all = KaplanMeier(all_waits)
        self.km = {t: KaplanMeier(w) for t, w in waits.items()}

    def handle(self, typ, hour):
        s = self.by_type_hour.get((typ, hour)) or self.by_type.get(typ) or self.all
        return s[self.rng.randrange(len(s))]

    def patience(self, typ, waited):
        km = self.km.get(typ)
        if km is None or km.events < 30:
            km = self.km_all
        above = km.survival(waited)
        if above <= 0:
            return waited
        return km.quantile(self.rng.random() * above)


def shifts(calls):
    services = defaultdict(list)
    for entry, _, _, _, _, waited, handle, patience, agent in calls:
        if handle >= 0 and agent and agent != "NO_SERVER":
            services[agent].append((entry + waited, entry + waited + handle))
    out = {}
    for agent, s in services.items():
        s.sort()
        blocks, i = [], 0
        while i < len(s):
            b0, b1 = s[i]
            j = i + 1
            while j < len(s) and s[j][0] <= b1 + GAP:
                b1 = max(b1, s[j][1])
                j += 1
            blocks.append((b0, max(b1, b0 + 60)))
            i = j
        out[agent] = blocks
    return out


def main():
    args = sys.argv[1:]
    path = args[0]
    days = int(args[args.index("--days") + 1]) if "--days" in args else 0
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 1
    t0 = time.monotonic()
    rows, calls = read_calls(path, days)
    if "--count-only" in args:  # how many calls the whole file offers, for extrapolation
        print("simpy: rows=%d offered=%d" % (rows, len(calls)))
        return
    t1, c1 = time.monotonic(), time.process_time()
    model = Model(calls, seed)
    blocks = shifts(calls)
    stats = Stats()
    initialize()
    agents = Resource(capacity=len(blocks), qType=PriorityQ, preemptable=False)
    for agent, bl in blocks.items():
        off, prev = [], 0.0
        for b0, b1 in bl:
            off.append((prev, b0))
            prev = b1
        off.append((prev, float("inf")))
        p = OffShift()
        activate(p, p.run(agents, off))
    src = Source()
    activate(src, src.run(calls, agents, model, stats))
    simulate(until=calls[-1][0] + 30 * DAY if calls else 0)
    asa = stats.wait / stats.answered if stats.answered else 0.0
    print("simpy: rows=%d offered=%d answered=%d abandoned=%d asa_s=%.1f agents=%d "
          "read_s=%.2f model_s=%.2f model_cpu_s=%.2f"
          % (rows, len(calls), stats.answered, stats.abandoned, asa, len(blocks), t1 - t0,
             time.monotonic() - t1, time.process_time() - c1))


if __name__ == "__main__":
    main()
