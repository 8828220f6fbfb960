#pragma once
// A non-owning reference to a callable (no allocation, unlike std::function), for work a kernel or
// layer calls back into from inside its parallel region. The callable must outlive the call it is
// passed to, as a lambda written in the call's arguments does.
#include <type_traits>
#include <utility>

namespace bnlab {

template <class Signature>
class FunctionRef;

template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  FunctionRef() = default;
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& fn)  // NOLINT: implicit, like std::function
      : fn_(const_cast<void*>(static_cast<const void*>(&fn))),
        call_([](void* f, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(f))(std::forward<Args>(args)...);
        }) {}
  explicit operator bool() const { return call_ != nullptr; }
  R operator()(Args... args) const { return call_(fn_, std::forward<Args>(args)...); }

 private:
  void* fn_ = nullptr;
  R (*call_)(void*, Args...) = nullptr;
};

}  // namespace bnlab
