// SPDX-License-Identifier: Apache-2.0
// What `tandem-proxyctl up` changed, so that `down` undoes exactly that.
// One action per line in /run/tandem/proxy.state (tmpfs: a reboot forgets
// it together with the changes).
#pragma once

#include <string>
#include <vector>

#include "result.h"

namespace tandem::proxy {

// Actions, as whitespace-separated words:
//   module NAME                      loaded by up (left loaded by down)
//   redirect ENABLED PORT[,PORT..]   module config before the first up
//   fou PORT                         GUE receive port added
//   link-created NAME                tunnel device created
//   link-up NAME                     existing device set up
//   sysctl KEY OLD                   sysctl changed from OLD
//   addr DEV ADDRESS PREFIX          address added
//   nft-table FAMILY NAME            nftables table created (options.mss)
struct ProxyState {
	std::vector<std::vector<std::string>> actions;

	bool has(const std::vector<std::string> &action) const;
	// The first action whose first two words match, or nullptr.
	const std::vector<std::string> *find(const std::string &kind, const std::string &key) const;
	void add(std::vector<std::string> action);
};

// Ok with an empty state when the file does not exist.
Result<ProxyState> load_state(const std::string &path, bool &exists);
Result<void> save_state(const std::string &path, const ProxyState &state);
Result<void> remove_state(const std::string &path);

}  // namespace tandem::proxy
