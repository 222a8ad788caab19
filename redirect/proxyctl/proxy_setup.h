// SPDX-License-Identifier: Apache-2.0
// `tandem-proxyctl up` and `down`: bring a proxy host to the state
// proxy.yaml describes, remembering each change so down can undo it.
#pragma once

#include <string>

#include "proxy_config.h"
#include "result.h"

namespace tandem::proxy {

struct SetupOptions {
	std::string state_file = "/run/tandem/proxy.state";
	std::string module_path;  // --module: load tandem_redirect from this file
	bool verbose = true;      // one line per change on stdout
};

Result<void> proxy_up(const ProxyConfig &cfg, const SetupOptions &opt);
Result<void> proxy_down(const SetupOptions &opt);

}  // namespace tandem::proxy
