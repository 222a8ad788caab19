// SPDX-License-Identifier: Apache-2.0
// What a valid configuration does that its author may not expect: notes, not errors
// (tandemctl check prints them).
#pragma once

#include <string>
#include <vector>

#include "config.h"

namespace tandem {

// One line each, "path:line:column: note: ...".
std::vector<std::string> config_notes(const Config &config);

}  // namespace tandem
