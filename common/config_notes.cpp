// SPDX-License-Identifier: Apache-2.0
#include "config_notes.h"

namespace tandem {

std::vector<std::string> config_notes(const Config &config)
{
	std::vector<std::string> notes;
	for (const ServiceConfig &s : config.services)
		for (const Bind &b : s.binds)
			// GLB accepts such a bind (and so do we, to import and export it unchanged),
			// but only the network is matched.
			if (b.written)
				notes.push_back(config.path + ":" + std::to_string(b.mark.line) + ":" +
						std::to_string(b.mark.column) + ": note: service \"" + s.name +
						"\": bind " + b.to_string_as_written() +
						" has host bits set; they are ignored for matching (it matches " +
						b.prefix.to_string() + ") and kept for glb export");
	return notes;
}

}  // namespace tandem
