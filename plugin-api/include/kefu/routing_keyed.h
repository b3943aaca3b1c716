// SPDX-License-Identifier: Apache-2.0
//
// An optional fast path of kefu::Router for simulations (added during SDK 1.0). Kept apart
// from routing.h: only a router that offers it and a simulation that uses it include it.
#pragma once

#include <cstdint>
#include <string>

#include "kefu/routing.h"
#include "kefu/status.h"
#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

// An optional fast path of a Router for simulations that offer millions of contacts
// (`kefu replay`): the same engine and the same decisions, with each contact named by a
// number instead of a string id, so that no id is formatted, hashed or stored per contact.
// A Router that offers it also derives from this class: reach it with dynamic_cast from
// the Router that RouterFactory::create() returns, and fall back to the string calls when
// the cast gives null.
//
// A keyed contact is not known by any string id: the string calls and call controls do
// not find it. A RoutingListener that also derives from KeyedRoutingListener hears of its
// assignment by key; the other reports (and any other listener) name it by its key in
// decimal.
class KeyedContacts {
 public:
  virtual ~KeyedContacts() = default;
  // As Router::enqueue(), for a contact named by `key` (contact.id is not read).
  // AlreadyExists if a keyed contact of that key is routed. The router indexes a table by
  // key: give small numbers, such as the contact's index in the caller's own table.
  virtual Status enqueueKeyed(uint32_t key, const ContactSpec& contact) = 0;
  // As Router::release() and Router::abandon().
  virtual Status releaseKeyed(uint32_t key, TimePoint at) = 0;
  virtual Status abandonKeyed(uint32_t key, TimePoint at) = 0;
};

// What a listener may hear of keyed contacts instead of RoutingListener::onAssigned().
class KeyedRoutingListener {
 public:
  virtual ~KeyedRoutingListener() = default;
  virtual void onAssignedKeyed(uint32_t key, const std::string& agentId,
                               const std::string& queue, TimePoint at) = 0;
};

KEFU_SDK_NAMESPACE_END
