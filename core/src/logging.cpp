// SPDX-License-Identifier: Apache-2.0
#include "kefu/core/logging.h"

#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "kefu/http.h"
#include "kefu/pii.h"

namespace kefu::core {
namespace {

// Masks personal data in the message, then hands it to the wrapped formatter.
class MaskingFormatter : public spdlog::formatter {
 public:
  explicit MaskingFormatter(std::unique_ptr<spdlog::formatter> inner) : inner_(std::move(inner)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string masked = maskPersonalData({msg.payload.data(), msg.payload.size()});
    spdlog::details::log_msg copy = msg;
    copy.payload = {masked.data(), masked.size()};
    inner_->format(copy, dest);
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<MaskingFormatter>(inner_->clone());
  }

 private:
  std::unique_ptr<spdlog::formatter> inner_;
};

// One JSON object per line: {"ts":"...","level":"info","logger":"host","msg":"..."}.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto secs = std::chrono::time_point_cast<std::chrono::milliseconds>(msg.time);
    auto ms = secs.time_since_epoch().count() % 1000;
    std::time_t t = std::chrono::system_clock::to_time_t(msg.time);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[64];
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
    auto level = spdlog::level::to_string_view(msg.level);
    std::string line = "{\"ts\":\"" + std::string(ts) + "\",\"level\":\"" +
                       std::string(level.data(), level.size()) + "\",\"logger\":\"" +
                       jsonEscape({msg.logger_name.data(), msg.logger_name.size()}) +
                       "\",\"msg\":\"" + jsonEscape({msg.payload.data(), msg.payload.size()}) +
                       "\"}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

struct LogState {
  std::mutex mu;
  std::vector<spdlog::sink_ptr> sinks;
  spdlog::level::level_enum level = spdlog::level::info;
  bool json = false;
};

LogState& state() {
  static LogState s;
  return s;
}

std::unique_ptr<spdlog::formatter> makeFormatter(bool json) {
  std::unique_ptr<spdlog::formatter> inner;
  if (json) {
    inner = std::make_unique<JsonFormatter>();
  } else {
    inner = std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
  }
  return std::make_unique<MaskingFormatter>(std::move(inner));
}

void ensureDefaultSinks(LogState& s) {
  if (!s.sinks.empty()) return;
  auto err = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  err->set_formatter(makeFormatter(false));
  s.sinks.push_back(err);
}

}  // namespace

void initLogging(const LogOptions& options) {
  LogState& s = state();
  std::lock_guard lock(s.mu);
  s.sinks.clear();
  s.json = options.json;
  s.level = spdlog::level::from_str(options.level);
  auto err = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  err->set_formatter(makeFormatter(options.json));
  s.sinks.push_back(err);
  if (!options.file.empty()) {
    std::filesystem::create_directories(options.file.parent_path());
    auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file.string());
    file->set_formatter(makeFormatter(options.json));
    s.sinks.push_back(file);
  }
  // Written lines reach the file within a second even when nothing is logged at warn.
  static std::once_flag flusher;
  std::call_once(flusher, [] { spdlog::flush_every(std::chrono::seconds(1)); });
  // Re-point loggers created before the configuration was known.
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
    l->sinks() = s.sinks;
    l->set_level(s.level);
  });
}

std::shared_ptr<spdlog::logger> getLogger(const std::string& name, const std::string& level) {
  LogState& s = state();
  std::lock_guard lock(s.mu);
  ensureDefaultSinks(s);
  auto lvl = level.empty() ? s.level : spdlog::level::from_str(level);
  if (auto existing = spdlog::get(name)) {
    existing->set_level(lvl);
    return existing;
  }
  auto logger = std::make_shared<spdlog::logger>(name, s.sinks.begin(), s.sinks.end());
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::warn);
  spdlog::register_logger(logger);
  return logger;
}

spdlog::logger& hostLog() {
  static std::shared_ptr<spdlog::logger> host = getLogger("host");
  return *host;
}

}  // namespace kefu::core
