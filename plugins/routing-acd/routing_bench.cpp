// SPDX-License-Identifier: Apache-2.0
//
// The benchmark drives both routers with the same seeded stream: S voice queues (one per
// skill), N agents with K random skills each, all ready; then contacts arrive at random
// queues while random assigned contacts end, keeping most agents busy. A decision is an
// assignment of a contact to an agent. Each router call (arrival or end) is timed.
//
// The baseline keeps agent availability in a SQLite file (WAL, synchronous=NORMAL) with an
// index on (skill, state, idle_since); each arrival is one transaction that selects the
// longest-idle ready agent of the skill and marks the agent busy, each end one transaction
// that marks it ready again. Contacts that find nobody wait in memory in both.
#include "routing_bench.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <random>
#include <unordered_map>

#include <fmt/format.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "contact_desk.h"
#include "locked_router.h"

namespace kefu::acd {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int agents = 10000;
  int skills = 200;
  int skillsPerAgent = 5;
  int64_t contacts = 1'000'000;
  int64_t baselineContacts = 20'000;
  double busyShare = 0.9;
  uint64_t seed = 1;
};

struct Result {
  int64_t decisions = 0;
  double seconds = 0;
  double p50us = 0, p99us = 0;
  double perSecond() const { return seconds > 0 ? decisions / seconds : 0; }
};

void percentiles(std::vector<uint32_t>& ns, Result& r) {
  if (ns.empty()) return;
  std::sort(ns.begin(), ns.end());
  r.p50us = ns[ns.size() / 2] / 1000.0;
  r.p99us = ns[std::min(ns.size() - 1, ns.size() * 99 / 100)] / 1000.0;
}

// The agents' skills, shared by both runs so they see the same center.
std::vector<std::vector<int>> makeSkills(const Options& o, std::mt19937_64& rng) {
  std::vector<std::vector<int>> out(o.agents);
  std::uniform_int_distribution<int> skill(0, o.skills - 1);
  for (auto& s : out) {
    while (static_cast<int>(s.size()) < std::min(o.skillsPerAgent, o.skills)) {
      int k = skill(rng);
      if (std::find(s.begin(), s.end(), k) == s.end()) s.push_back(k);
    }
  }
  return out;
}

class Counter : public RoutingListener {
 public:
  std::vector<std::string>* assigned = nullptr;
  int64_t decisions = 0;
  void onAssigned(const std::string& c, const std::string&, const std::string&,
                  TimePoint) override {
    ++decisions;
    assigned->push_back(c);
  }
  void onOverflowed(const std::string&, const std::string&, const std::string&,
                    TimePoint) override {}
  void onMaxWait(const std::string&, const std::string&, MaxWaitAction, TimePoint) override {}
  void onAgentState(const std::string&, AgentState, AgentState, const std::string&,
                    TimePoint) override {}
};

Result runRouter(const Options& o, const std::vector<std::vector<int>>& agentSkills) {
  LockedRouter router(std::make_unique<AcdEngine>());
  std::vector<std::string> assigned;
  Counter counter;
  counter.assigned = &assigned;
  router.setListener(&counter);
  for (int s = 0; s < o.skills; ++s) {
    QueueSpec q;
    q.name = "q" + std::to_string(s);
    q.skills = {{"s" + std::to_string(s), 1}};
    (void)router.defineQueue(q);
  }
  TimePoint t{std::chrono::hours(24 * 365 * 50)};
  for (int a = 0; a < o.agents; ++a) {
    AgentSpec spec;
    spec.id = "a" + std::to_string(a);
    for (int s : agentSkills[a]) spec.skills["s" + std::to_string(s)] = 1 + (a + s) % 10;
    (void)router.defineAgent(spec);
    (void)router.signIn(spec.id, t);
    (void)router.setReady(spec.id, t);
  }

  std::mt19937_64 rng(o.seed);
  std::uniform_int_distribution<int> queue(0, o.skills - 1);
  int64_t next = 0;
  auto arrive = [&] {
    ContactSpec c;
    c.id = "c" + std::to_string(next++);
    c.queue = "q" + std::to_string(queue(rng));
    c.arrived = t;
    return router.enqueue(c);
  };
  auto end = [&] {
    std::uniform_int_distribution<size_t> pick(0, assigned.size() - 1);
    size_t i = pick(rng);
    std::string id = std::move(assigned[i]);
    assigned[i] = std::move(assigned.back());
    assigned.pop_back();
    return router.release(id, t);
  };

  // Warm up to the target occupancy, unmeasured.
  while (counter.decisions < static_cast<int64_t>(o.agents * o.busyShare)) {
    t += std::chrono::milliseconds(1);
    (void)arrive();
  }
  counter.decisions = 0;
  std::vector<uint32_t> lat;
  lat.reserve(2 * o.contacts);
  auto start = Clock::now();
  for (int64_t i = 0; i < o.contacts; ++i) {
    t += std::chrono::milliseconds(1);
    auto t0 = Clock::now();
    (void)arrive();
    auto t1 = Clock::now();
    if (!assigned.empty()) (void)end();
    auto t2 = Clock::now();
    lat.push_back(static_cast<uint32_t>((t1 - t0).count()));
    lat.push_back(static_cast<uint32_t>((t2 - t1).count()));
  }
  Result r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.decisions = counter.decisions;
  percentiles(lat, r);
  return r;
}

Result runBaseline(const Options& o, const std::vector<std::vector<int>>& agentSkills,
                   const std::filesystem::path& file) {
  std::filesystem::remove(file);
  std::filesystem::remove(file.string() + "-wal");
  std::filesystem::remove(file.string() + "-shm");
  soci::session db(*soci::factory_sqlite3(), "db=\"" + file.string() + "\"");
  db << "PRAGMA journal_mode=WAL";
  db << "PRAGMA synchronous=NORMAL";
  db << "CREATE TABLE agent_skill (agent INTEGER NOT NULL, skill INTEGER NOT NULL, "
        "state INTEGER NOT NULL, idle_since INTEGER NOT NULL, PRIMARY KEY (agent, skill))";
  db << "CREATE INDEX agent_skill_ready ON agent_skill (skill, state, idle_since)";
  {
    soci::transaction tx(db);
    int agent = 0, skill = 0;
    soci::statement ins = (db.prepare << "INSERT INTO agent_skill VALUES (:a, :s, 0, 0)",
                           soci::use(agent), soci::use(skill));
    for (agent = 0; agent < o.agents; ++agent) {
      for (int s : agentSkills[agent]) {
        skill = s;
        ins.execute(true);
      }
    }
    tx.commit();
  }

  // Prepared once, as a careful implementation would.
  int skill = 0, found = -1, agent = 0;
  long long now = 0;
  soci::statement pick =
      (db.prepare << "SELECT agent FROM agent_skill WHERE skill = :s AND state = 0 "
                     "ORDER BY idle_since LIMIT 1",
       soci::use(skill), soci::into(found));
  soci::statement busy = (db.prepare << "UPDATE agent_skill SET state = 1 WHERE agent = :a",
                          soci::use(agent));
  soci::statement ready =
      (db.prepare << "UPDATE agent_skill SET state = 0, idle_since = :t WHERE agent = :a",
       soci::use(now), soci::use(agent));

  std::vector<std::deque<int64_t>> waiting(o.skills);  // contacts waiting per skill
  std::vector<std::pair<int64_t, int>> assigned;       // contact, agent
  int64_t decisions = 0, next = 0;
  std::mt19937_64 rng(o.seed);
  std::uniform_int_distribution<int> queue(0, o.skills - 1);

  auto arrive = [&] {
    int64_t contact = next++;
    skill = queue(rng);
    soci::transaction tx(db);
    found = -1;
    pick.execute(true);
    if (db.got_data() && found >= 0) {
      agent = found;
      busy.execute(true);
      assigned.emplace_back(contact, agent);
      ++decisions;
    } else {
      waiting[skill].push_back(contact);
    }
    tx.commit();
  };
  auto end = [&] {
    std::uniform_int_distribution<size_t> which(0, assigned.size() - 1);
    size_t i = which(rng);
    agent = assigned[i].second;
    assigned[i] = assigned.back();
    assigned.pop_back();
    soci::transaction tx(db);
    // The oldest waiting contact among the agent's skills takes it at once.
    int bestSkill = -1;
    for (int s : agentSkills[agent]) {
      if (!waiting[s].empty() &&
          (bestSkill < 0 || waiting[s].front() < waiting[bestSkill].front())) {
        bestSkill = s;
      }
    }
    if (bestSkill >= 0) {
      assigned.emplace_back(waiting[bestSkill].front(), agent);
      waiting[bestSkill].pop_front();
      ++decisions;
    } else {
      ++now;
      ready.execute(true);
    }
    tx.commit();
  };

  while (decisions < static_cast<int64_t>(o.agents * o.busyShare)) arrive();
  decisions = 0;
  std::vector<uint32_t> lat;
  auto start = Clock::now();
  for (int64_t i = 0; i < o.baselineContacts; ++i) {
    auto t0 = Clock::now();
    arrive();
    auto t1 = Clock::now();
    if (!assigned.empty()) end();
    auto t2 = Clock::now();
    lat.push_back(static_cast<uint32_t>((t1 - t0).count()));
    lat.push_back(static_cast<uint32_t>((t2 - t1).count()));
  }
  Result r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.decisions = decisions;
  percentiles(lat, r);
  return r;
}

// The durable path: each contact is stored, routed, assigned, ended and its agent freed,
// with every step written to the deployment's store as the API does it.
double runDurable(HostContext& ctx, int64_t contacts, std::ostream& err) {
  LockedRouter router(std::make_unique<AcdEngine>());
  QueueSpec q;
  q.name = "bench-durable";
  (void)router.defineQueue(q);
  TimePoint t{std::chrono::hours(24 * 365 * 50)};
  for (int a = 0; a < 50; ++a) {
    std::string id = "bench-agent-" + std::to_string(a);
    (void)router.defineAgent({id, {}, 1, std::chrono::seconds(0)});
    (void)router.signIn(id, t);
    (void)router.setReady(id, t);
  }
  uint64_t errors = 0;
  ContactDesk desk(ctx.store().openSession(), router, nullptr, ctx.clock(),
                   [&](const std::string&) { ++errors; });
  router.setListener(&desk);
  auto start = Clock::now();
  for (int64_t i = 0; i < contacts; ++i) {
    ContactSpec c;
    c.queue = q.name;
    c.channel = "phone";
    auto id = desk.accept(c);
    if (!id.ok() || !desk.end(*id, "resolved").ok()) {
      err << "routing bench: the durable path failed: "
          << (id.ok() ? "end" : id.status().message()) << "\n";
      return 0;
    }
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  router.setListener(nullptr);
  if (errors) err << "routing bench: " << errors << " store writes failed\n";
  return contacts / secs;
}

bool readInt(const CliArgs& args, const char* name, int64_t lo, int64_t hi, int64_t& out,
             std::ostream& err) {
  std::string v = args.get(name);
  bool ok = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos &&
            v.size() < 12;
  if (ok) out = std::stoll(v);
  if (!ok || out < lo || out > hi) {
    err << "routing bench: " << name << " must be an integer from " << lo << " to " << hi
        << "\n";
    return false;
  }
  return true;
}

}  // namespace

CliCommand benchCommand(HostContext& ctx) {
  CliCommand cmd;
  cmd.path = {"routing", "bench"};
  cmd.help = "Routing decisions/s of the engine against a SQLite baseline";
  cmd.options = {{"--agents", "Agents", false, false, "10000"},
                 {"--skills", "Skills, one queue each", false, false, "200"},
                 {"--skills-per-agent", "Skills of each agent", false, false, "5"},
                 {"--contacts", "Contacts through the engine", false, false, "1000000"},
                 {"--baseline-contacts", "Contacts through the baseline", false, false,
                  "20000"},
                 {"--durable-contacts", "Contacts through the durable path (0: skip)", false,
                  false, "20000"},
                 {"--seed", "Random seed", false, false, "1"}};
  cmd.run = [&ctx](const CliArgs& args, CliIo& io) {
    Options o;
    int64_t v = 0;
    if (!readInt(args, "--agents", 1, 1'000'000, v, io.err)) return 2;
    o.agents = static_cast<int>(v);
    if (!readInt(args, "--skills", 1, 100'000, v, io.err)) return 2;
    o.skills = static_cast<int>(v);
    if (!readInt(args, "--skills-per-agent", 1, 100, v, io.err)) return 2;
    o.skillsPerAgent = static_cast<int>(v);
    if (!readInt(args, "--contacts", 1, 100'000'000, o.contacts, io.err)) return 2;
    if (!readInt(args, "--baseline-contacts", 1, 10'000'000, o.baselineContacts, io.err)) {
      return 2;
    }
    if (!readInt(args, "--seed", 0, 1'000'000'000, v, io.err)) return 2;
    o.seed = static_cast<uint64_t>(v);
    int64_t durable = 0;
    if (!readInt(args, "--durable-contacts", 0, 10'000'000, durable, io.err)) return 2;

    std::mt19937_64 rng(o.seed);
    auto skills = makeSkills(o, rng);
    io.out << fmt::format("routing bench: {} agents, {} skills ({} per agent), {:.0f}% busy\n",
                          o.agents, o.skills, o.skillsPerAgent, o.busyShare * 100);
    Result engine = runRouter(o, skills);
    io.out << fmt::format("engine:   {} decisions in {:.3f} s = {:.0f}/s, p50 {:.2f} us, "
                          "p99 {:.2f} us\n",
                          engine.decisions, engine.seconds, engine.perSecond(), engine.p50us,
                          engine.p99us);
    auto file = ctx.dataDir() / "routing-bench-baseline.db";
    Result base = runBaseline(o, skills, file);
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(file.string() + suffix);
    }
    io.out << fmt::format("baseline: {} decisions in {:.3f} s = {:.0f}/s, p50 {:.2f} us, "
                          "p99 {:.2f} us (SQLite WAL, synchronous=NORMAL)\n",
                          base.decisions, base.seconds, base.perSecond(), base.p50us,
                          base.p99us);
    if (durable > 0) {
      double perSecond = runDurable(ctx, durable, io.err);
      if (perSecond <= 0) return 1;
      io.out << fmt::format("durable:  {} contacts stored, assigned and ended = {:.0f}/s ({})\n",
                            durable, perSecond, ctx.store().describe());
    }
    double ratio = base.perSecond() > 0 ? engine.perSecond() / base.perSecond() : 0;
    io.out << fmt::format("decisions_per_s={:.0f} p99_us={:.2f} baseline_decisions_per_s={:.0f} "
                          "ratio={:.1f}\n",
                          engine.perSecond(), engine.p99us, base.perSecond(), ratio);
    return 0;
  };
  return cmd;
}

}  // namespace kefu::acd
