// SPDX-License-Identifier: Apache-2.0
// Reading and writing /proc/sys of the current network namespace.
#pragma once

#include <string>

#include "result.h"

namespace tandem::proxy {

// key like "net/ipv4/conf/all/rp_filter"; values are trimmed strings.
Result<std::string> sysctl_read(const std::string &key);
Result<void> sysctl_write(const std::string &key, const std::string &value);

}  // namespace tandem::proxy
