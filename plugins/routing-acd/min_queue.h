// SPDX-License-Identifier: Apache-2.0
//
// MinQueue: the ordered index behind each queue of AcdEngine (its ready agents, its
// waiting contacts). It hands out the smallest live entry; entries are never removed one
// by one: the owner makes an entry dead (its agent or contact moved on), and the queue
// skips dead entries when they come first and drops them all once they outnumber the
// live ones (compact()).
//
// Most entries arrive in order, sorting after every entry held (the agent freed last under
// longest idle, the contact that arrived last), and most leave from the front. Those go
// to a sorted run, appended at the back and consumed from the front in O(1); an entry out
// of order goes to a binary min-heap beside it, O(log n). The first entry is the smaller
// of the run's first and the heap's top. Every operation is O(1) amortized for in-order
// entries and O(log n) amortized otherwise, n the entries held; no allocation once the
// vectors have grown.
#pragma once

#include <algorithm>
#include <functional>
#include <vector>

namespace kefu::acd {

template <class Entry>  // ordered by operator<, unique among live entries
class MinQueue {
 public:
  void push(const Entry& e) {
    if (head_ == run_.size()) {
      run_.clear();
      head_ = 0;
    }
    if (run_.empty() || run_.back() < e) {
      run_.push_back(e);
    } else {
      heap_.push_back(e);
      std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
    }
  }

  // The smallest entry for which live(entry) holds, or null; drops the dead entries that
  // come before it. The pointer is valid until the next push() or compact().
  template <class Live>
  const Entry* first(const Live& live) {
    while (head_ < run_.size() && !live(run_[head_])) ++head_;
    if (head_ >= kSlack && 2 * head_ >= run_.size()) {  // the consumed half goes
      run_.erase(run_.begin(), run_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    while (!heap_.empty() && !live(heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
      heap_.pop_back();
    }
    const Entry* inRun = head_ < run_.size() ? &run_[head_] : nullptr;
    const Entry* inHeap = heap_.empty() ? nullptr : &heap_.front();
    if (!inRun) return inHeap;
    if (!inHeap) return inRun;
    return *inHeap < *inRun ? inHeap : inRun;
  }

  // Drops every dead entry once the entries held exceed twice the `liveCount` live ones
  // (plus a slack that spares small queues frequent rebuilds): O(1) amortized per entry
  // made dead, since as many must die again before the next rebuild.
  template <class Live>
  void compact(size_t liveCount, const Live& live) {
    if (size() <= 2 * liveCount + kSlack) return;
    run_.erase(run_.begin(), run_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
    auto dead = [&live](const Entry& e) { return !live(e); };
    std::erase_if(run_, dead);
    std::erase_if(heap_, dead);
    std::make_heap(heap_.begin(), heap_.end(), std::greater<>());
  }

  // Entries held, dead ones included.
  size_t size() const { return run_.size() - head_ + heap_.size(); }
  static constexpr size_t maxSize(size_t liveCount) { return 2 * liveCount + kSlack; }
  // Every entry held, dead ones included, in no particular order.
  template <class F>
  void forEach(const F& f) const {
    for (size_t i = head_; i < run_.size(); ++i) f(run_[i]);
    for (const auto& e : heap_) f(e);
  }
  // Whether the run is sorted and the heap a heap (for invariant checks).
  bool ordered() const {
    return std::is_sorted(run_.begin() + static_cast<std::ptrdiff_t>(head_), run_.end()) &&
           std::is_heap(heap_.begin(), heap_.end(), std::greater<>());
  }

 private:
  static constexpr size_t kSlack = 32;
  std::vector<Entry> run_;  // ascending from head_; before head_: consumed
  size_t head_ = 0;
  std::vector<Entry> heap_;  // min-heap of the entries that came out of order
};

}  // namespace kefu::acd
