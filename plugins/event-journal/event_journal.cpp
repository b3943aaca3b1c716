// SPDX-License-Identifier: Apache-2.0
//
// event-journal: writes the events of the bus to the store, so that what happened in the
// center (state changes, faults, operator actions) can be read back later, through the API
// (GET /api/v1/journal/events) or the CLI (kefu journal tail).
//
// Each event is committed as it is published; a failed write is logged and counted in
// kefu_journal_write_errors_total, never silently dropped.
#include <chrono>
#include <mutex>

#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "kefu/sdk.h"
#include "kefu/store_util.h"

namespace {

using Json = nlohmann::json;

int64_t toMillis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

class EventJournal : public kefu::Plugin {
 public:
  kefu::Status configure(kefu::HostContext& ctx) override {
    ctx_ = &ctx;
    const kefu::ConfigValue& cfg = ctx.config();
    topics_ = cfg.getStringList("topics", {""});
    retentionDays_ = cfg.getInt("retention_days", 90);
    maxPayload_ = cfg.getInt("max_payload_bytes", 65536);
    if (retentionDays_ < 1 || retentionDays_ > 36500) {
      return cfg.error("retention_days", "must be between 1 and 36500 (100 years)");
    }
    if (maxPayload_ < 256) return cfg.error("max_payload_bytes", "must be at least 256");

    written_ = &ctx.metrics().counter("kefu_journal_events_written_total",
                                      "Events written to the journal");
    errors_ = &ctx.metrics().counter("kefu_journal_write_errors_total",
                                     "Events the journal failed to write");

    kefu::RouteOptions readers;
    readers.roles = {"supervisor", "team_lead"};
    auto s = ctx.http().add("GET", "/api/v1/journal/events",
                            [this](const kefu::HttpRequest& r) { return list(r); }, readers);
    if (!s.ok()) return s;
    return ctx.cli().add({{"journal", "tail"},
                          "Print the newest events of the journal",
                          {{"--limit", "How many events", false, false, "20"},
                           {"--topic", "Only this topic (and its sub-topics)", false, false, ""}},
                          [this](const kefu::CliArgs& a, kefu::CliIo& io) { return tail(a, io); }});
  }

  std::vector<kefu::Migration> migrations() const override {
    return {{1, "journal_events table",
             "CREATE TABLE journal_events ("
             "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
             "  at_ms BIGINT NOT NULL,"
             "  topic VARCHAR(200) NOT NULL,"
             "  source VARCHAR(64) NOT NULL,"
             "  payload TEXT NOT NULL);"
             "CREATE INDEX journal_events_topic_at ON journal_events (topic, at_ms)",
             "CREATE TABLE journal_events ("
             "  id BIGSERIAL PRIMARY KEY,"
             "  at_ms BIGINT NOT NULL,"
             "  topic VARCHAR(200) NOT NULL,"
             "  source VARCHAR(64) NOT NULL,"
             "  payload TEXT NOT NULL);"
             "CREATE INDEX journal_events_topic_at ON journal_events (topic, at_ms)"}};
  }

  kefu::Status start() override {
    session_ = ctx_->store().openSession();
    // Retention is the serving host's job; a command (`kefu journal tail`) deletes nothing.
    if (ctx_->mode() == kefu::RunMode::kServe) purge();
    for (const auto& t : topics_) {
      subs_.push_back(ctx_->events().subscribe(t, [this](const kefu::Event& e) { write(e); }));
    }
    bool all = std::find(topics_.begin(), topics_.end(), "") != topics_.end();
    std::string what = all ? "all topics" : fmt::format("{}", fmt::join(topics_, ", "));
    ctx_->logger().info("journaling {} for {} days", what, retentionDays_);
    return {};
  }

  void stop() override {
    // Unsubscribing waits for writes in progress; then nothing else uses the session.
    for (auto id : subs_) ctx_->events().unsubscribe(id);
    subs_.clear();
    kefu::TimerId timer;
    {
      std::lock_guard lock(mu_);
      timer = purgeTimer_;
      purgeTimer_ = 0;
      session_.reset();
    }
    if (timer) ctx_->clock().cancel(timer);
  }

 private:
  void write(const kefu::Event& e) {
    std::string payload = e.payload;
    if (static_cast<int64_t>(payload.size()) > maxPayload_) {
      payload = Json{{"truncated", true}, {"bytes", e.payload.size()}}.dump();
    }
    int64_t at = toMillis(e.at);
    std::lock_guard lock(mu_);
    if (!session_) return;  // stopping
    try {
      *session_ << "INSERT INTO journal_events (at_ms, topic, source, payload) "
                   "VALUES (:a, :t, :s, :p)",
          soci::use(at), soci::use(e.topic), soci::use(e.source), soci::use(payload);
      written_->inc();
    } catch (const std::exception& ex) {
      errors_->inc();
      ctx_->logger().error("cannot journal event '{}' from '{}': {}", e.topic, e.source,
                           ex.what());
    }
  }

  // Deletes what is older than the retention, then again a day later.
  void purge() {
    int64_t cutoff = toMillis(ctx_->clock().now()) - retentionDays_ * 86'400'000LL;
    std::lock_guard lock(mu_);
    if (!session_) return;
    try {
      *session_ << "DELETE FROM journal_events WHERE at_ms < :c", soci::use(cutoff);
    } catch (const std::exception& ex) {
      ctx_->logger().warn("journal purge failed: {}", ex.what());
    }
    purgeTimer_ = ctx_->clock().callAfter(std::chrono::hours(24), [this] { purge(); });
  }

  Json query(const std::string& topic, int64_t sinceMs, int64_t limit) {
    auto s = ctx_->store().openSession();
    Json items = Json::array();
    // The topic's own '%', '_' and '!' are literal in the LIKE pattern.
    std::string like;
    for (char c : topic) {
      if (c == '%' || c == '_' || c == '!') like += '!';
      like += c;
    }
    like += ".%";
    soci::rowset<soci::row> rows =
        (s->prepare << "SELECT id, at_ms, topic, source, payload FROM journal_events "
                       "WHERE at_ms >= :since AND (:t1 = '' OR topic = :t2 OR "
                       "topic LIKE :t3 ESCAPE '!') "
                       "ORDER BY id DESC LIMIT :lim",
         soci::use(sinceMs), soci::use(topic), soci::use(topic), soci::use(like),
         soci::use(limit));
    for (const auto& r : rows) {
      Json item;
      item["id"] = kefu::rowInt(r, 0);
      item["at"] = kefu::formatUtcMillis(kefu::rowInt(r, 1));
      item["topic"] = r.get<std::string>(2);
      item["source"] = r.get<std::string>(3);
      Json payload = Json::parse(r.get<std::string>(4), nullptr, false);
      item["payload"] = payload.is_discarded() ? Json(r.get<std::string>(4)) : payload;
      items.push_back(std::move(item));
    }
    return items;
  }

  // Parses all of `s` as a decimal integer ("5abc" and " 7" are refused).
  static bool parseInt(const std::string& s, int64_t& out) {
    if (s.empty() || s.size() > 18) return false;
    size_t i = s[0] == '-' ? 1 : 0;
    if (i == s.size()) return false;
    for (size_t k = i; k < s.size(); ++k) {
      if (s[k] < '0' || s[k] > '9') return false;
    }
    out = std::stoll(s);
    return true;
  }

  kefu::HttpResponse list(const kefu::HttpRequest& req) {
    int64_t limit = 100, since = 0;
    if ((req.query.count("limit") && !parseInt(req.query.at("limit"), limit)) ||
        (req.query.count("since_ms") && !parseInt(req.query.at("since_ms"), since))) {
      return kefu::HttpResponse::error(400, "invalid_argument",
                                       "limit and since_ms must be integers");
    }
    if (limit < 1 || limit > 1000) {
      return kefu::HttpResponse::error(400, "invalid_argument", "limit must be 1..1000");
    }
    std::string topic = req.query.count("topic") ? req.query.at("topic") : "";
    Json events = query(topic, since, limit);
    // Payloads may carry customer numbers; only administrators and supervisors see them.
    if (!req.principal.hasRole("admin") && !req.principal.hasRole("supervisor")) {
      maskValues(events);
    }
    return kefu::HttpResponse::json(200, Json{{"events", events}}.dump());
  }

  // Masks personal numbers in every string and number of `j`, keeping it valid JSON: a
  // number that would be masked becomes a masked string.
  static void maskValues(Json& j) {
    if (j.is_string()) {
      j = kefu::maskPersonalData(j.get<std::string>());
    } else if (j.is_number_integer()) {
      std::string text = j.dump();
      std::string masked = kefu::maskPersonalData(text);
      if (masked != text) j = masked;
    } else if (j.is_structured()) {
      for (auto& e : j) maskValues(e);
    }
  }

  int tail(const kefu::CliArgs& args, kefu::CliIo& io) {
    int64_t limit = 0;
    if (!parseInt(args.get("--limit", "20"), limit) || limit < 1 || limit > 100000) {
      io.err << "journal tail: --limit must be a number between 1 and 100000\n";
      return 2;
    }
    Json items = query(args.get("--topic"), 0, limit);
    if (items.empty()) io.err << "journal tail: no events\n";
    for (auto it = items.rbegin(); it != items.rend(); ++it) {
      io.out << (*it)["at"].get<std::string>() << "  " << (*it)["topic"].get<std::string>()
             << "  [" << (*it)["source"].get<std::string>() << "]  "
             << kefu::maskPersonalData((*it)["payload"].dump()) << "\n";
    }
    return 0;
  }

  kefu::HostContext* ctx_ = nullptr;
  std::vector<std::string> topics_;
  int64_t retentionDays_ = 90;
  int64_t maxPayload_ = 65536;
  std::mutex mu_;
  std::unique_ptr<soci::session> session_;
  std::vector<kefu::SubscriptionId> subs_;
  kefu::TimerId purgeTimer_ = 0;
  kefu::Counter* written_ = nullptr;
  kefu::Counter* errors_ = nullptr;
};

kefu::PluginInfo journalInfo() {
  kefu::PluginInfo info;
  info.description = "Stores the events of the bus and serves them to supervisors";
  info.kinds = {"journal"};
  info.provides = {};
  info.handlesPersonalData = true;
  info.configKeys = {
      {"topics", kefu::ConfigType::kStringList, "Topic prefixes to keep; \"\" keeps all", false,
       "[\"\"]"},
      {"retention_days", kefu::ConfigType::kInt, "Days an event is kept", false, "90"},
      {"max_payload_bytes", kefu::ConfigType::kInt,
       "Larger payloads are replaced by a truncation note", false, "65536"},
  };
  return info;
}

}  // namespace

KEFU_PLUGIN(EventJournal, "event-journal", "0.1.0", journalInfo)
