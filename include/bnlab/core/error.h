#pragma once
// Errors thrown by the library. Library code never exits: it throws, and the command line maps
// InputError to exit code 2 (bad usage or bad input) and anything else to exit code 1.
#include <stdexcept>
#include <string>

namespace bnlab {

// Bad input from the user: a file, a flag, a model spec, a label. The message is one line that
// names the offending file or flag and says what is wrong.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace bnlab
