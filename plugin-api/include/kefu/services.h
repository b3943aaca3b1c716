// SPDX-License-Identifier: Apache-2.0
//
// ServiceRegistry: how plugins find each other.
//
// A plugin that implements an interface (a router, a knowledge base) provides it under the
// interface's name while it is configured; others look it up by the same name. An interface
// class declares its registry name, including its major version:
//
//   class Router {
//    public:
//     static constexpr const char* kInterfaceName = "kefu.Router/1";
//     ...
//   };
//   ctx.services().provide<Router>(router_);              // in the provider's configure()
//   auto router = ctx.services().find<Router>();           // in a consumer's start()
//
// Declare the provider's name or interface in your PluginInfo::depends so the host
// configures and starts it first and stops it last. A provider's services are withdrawn
// when it stops; do not keep the pointer beyond your own stop().
//
// Threading: all calls are safe from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kefu/status.h"
#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

class ServiceRegistry {
 public:
  virtual ~ServiceRegistry() = default;

  // Registers `impl` under `interfaceName`. AlreadyExists (naming the current provider) if
  // another plugin provides that name.
  virtual Status provideRaw(std::string_view interfaceName, std::shared_ptr<void> impl) = 0;

  // Returns the provider of `interfaceName`, or nullptr.
  virtual std::shared_ptr<void> findRaw(std::string_view interfaceName) const = 0;

  // Names of all registered interfaces, sorted.
  virtual std::vector<std::string> names() const = 0;

  // Interface is named explicitly (provide<Router>(impl)): the pointer is converted to the
  // interface before it is stored, so find<Router>() gets the right address even when the
  // implementation derives from several classes.
  template <class Interface, class Impl>
  Status provide(std::shared_ptr<Impl> impl) {
    std::shared_ptr<Interface> asInterface = std::move(impl);
    return provideRaw(Interface::kInterfaceName,
                      std::static_pointer_cast<void>(std::move(asInterface)));
  }
  template <class T>
  std::shared_ptr<T> find() const {
    return std::static_pointer_cast<T>(findRaw(T::kInterfaceName));
  }
};

KEFU_SDK_NAMESPACE_END
