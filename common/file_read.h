// SPDX-License-Identifier: Apache-2.0
// Reading a whole input file with a size limit, so that a wrong path (a log, a device, a
// pipe that never ends) gives an error instead of taking the memory. A regular file's
// size is checked before reading; anything else is read up to one byte past the limit.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "result.h"

namespace tandem {

// `what` names the file in the errors ("the configuration file", "the GLB table").
Result<std::string> read_file_limited(const std::string &path, size_t max_bytes,
				      std::string_view what);

}  // namespace tandem
