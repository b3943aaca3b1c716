// SPDX-License-Identifier: Apache-2.0
//
// EventBus: in-process publish/subscribe between the host and plugins.
//
// Topics are dot-separated names owned by the publishing plugin ("contact.queued",
// "system.fault"). Payloads are JSON text so that any subscriber (a journal, a WebSocket
// stream, an audit trail) can store or forward them without knowing the publisher's types.
//
// Threading: publish() may be called from any thread and delivers synchronously, on the
// publisher's thread, to every matching subscriber in subscription order. Handlers must be
// quick and must not block; hand long work to your own thread. A handler that throws is
// logged with its plugin's name and does not affect other subscribers or the publisher.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

struct Event {
  std::string topic;
  // A JSON document (usually an object). Never put secrets here; personal data only where
  // every subscriber is entitled to it.
  std::string payload;
  // Set by the bus from the host clock when left at the epoch.
  std::chrono::system_clock::time_point at{};
  // Name of the publishing plugin ("host" for the host); set by the bus.
  std::string source;
};

using SubscriptionId = uint64_t;

class EventBus {
 public:
  virtual ~EventBus() = default;

  // Publishes `event` to every subscriber whose prefix matches its topic.
  virtual void publish(Event event) = 0;

  // Subscribes `handler` to topics equal to `topicPrefix` or starting with `topicPrefix`
  // followed by '.'; an empty prefix receives everything. The subscription ends with
  // unsubscribe() or, at the latest, when the subscribing plugin stops.
  virtual SubscriptionId subscribe(std::string topicPrefix,
                                   std::function<void(const Event&)> handler) = 0;

  // Ends one of this plugin's subscriptions. Returns false if it was unknown. When it
  // returns, the handler is not running on another thread (it waits for such a call, so do
  // not hold a lock the handler takes); safe to call from the handler itself.
  virtual bool unsubscribe(SubscriptionId id) = 0;
};

KEFU_SDK_NAMESPACE_END
