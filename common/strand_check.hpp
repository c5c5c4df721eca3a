// Checkable strand rules. An actor's private members run on its strand; MONOLITE_ASSERT_ON_STRAND(x)
// at the top of a private entry point says so and, when NDEBUG is not defined (debug, asan and tsan
// builds), checks it: a call from any thread not running a handler of `x` reports file, line and
// function (actor::member) and aborts. Release builds compile the check to nothing.
// `x` is anything with running_in_this_thread(): a strand, or a thread pool's executor for work
// that runs on a thread of its own by design.
#pragma once
#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace monolite::strand_check {

// True when the calling thread is running a handler of `strand` (or a thread of that pool).
template <class Strand>
bool on_strand(const Strand& strand) {
  return strand.running_in_this_thread();
}

// What a failed check does. The default prints one line to stderr and aborts; a test may install
// its own to observe a violation without dying.
using failure_handler = void (*)(const char* file, int line, const char* function, const char* strand);

inline void abort_off_strand(const char* file, int line, const char* function, const char* strand) {
  std::fprintf(stderr, "monolite: strand check failed at %s:%d: %s ran off its strand (%s)\n", file, line, function,
               strand);
  std::fflush(stderr);
  std::abort();
}

inline std::atomic<failure_handler> on_failure{&abort_off_strand};

// Installs `handler` for every later failed check; returns the one it replaces.
inline failure_handler set_failure_handler(failure_handler handler) { return on_failure.exchange(handler); }

template <class Strand>
void check(const Strand& strand, const char* file, int line, const char* function, const char* name) {
  if (!on_strand(strand)) on_failure.load()(file, line, function, name);
}

}  // namespace monolite::strand_check

#ifdef NDEBUG
#define MONOLITE_ASSERT_ON_STRAND(strand) static_cast<void>(0)
#else
#define MONOLITE_ASSERT_ON_STRAND(strand) \
  ::monolite::strand_check::check((strand), __FILE__, __LINE__, __PRETTY_FUNCTION__, #strand)
#endif
