// SPDX-License-Identifier: Apache-2.0
//
// ChannelHub: routing-acd's side of kefu/channel.h. It is the ChannelRegistry channel
// plugins add themselves to and the ChannelSink they report to; it keeps the call-control
// state of every open contact (call_control.h), serves the call-control routes
// (POST /api/v1/contacts/{id}/answer|hold|resume|hangup|transfer|consult|conference|
// monitor|whisper|barge) and stores every control step and media event in
// acd_contact_legs and every recording reference in acd_recordings (migration 2).
//
// A control is checked against the contact's phase and the agents' states, then carried
// out by the contact's channel, then applied to the router and stored in one transaction,
// then announced on the bus ("contact.held", ...). Controls are serialised by one mutex:
// they come at human pace, and this keeps a channel's synchronous reports in order with
// the control that caused them.
//
// It follows routing through the bus ("contact.accepted", "routing.assigned",
// "contact.ended", ...), never inside the router's lock, so the router's hot path does no
// extra work; the decisions' cost in `kefu bench routing` is unchanged.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "call_control.h"
#include "kefu/sdk.h"

namespace kefu::acd {

class ContactDesk;
class LockedRouter;

class ChannelHub : public ChannelRegistry, public ChannelSink {
 public:
  ChannelHub(HostContext& ctx, LockedRouter& router, std::vector<std::string> outcomes);
  ~ChannelHub() override;


  // Adds the call-control routes (in configure()).
  Status addRoutes(HttpRoutes& http);
  // Starts following routing through `desk` and the bus; stop() ends it.
  void start(ContactDesk* desk);
  void stop();

  // Adds "call", "legs" and "recordings" to a contact record (JSON text) for GET.
  std::string decorate(const std::string& contactId, const std::string& record);

  // ChannelRegistry
  Status add(std::shared_ptr<Channel> channel) override;
  void remove(std::string_view name) override;
  std::shared_ptr<Channel> find(std::string_view name) const override;
  std::vector<std::string> names() const override;
  ChannelSink& sink() override { return *this; }

  // ChannelSink
  Result<std::string> arrive(ContactSpec contact) override;
  Status report(const MediaEvent& event) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kefu::acd
