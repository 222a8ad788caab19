// SPDX-License-Identifier: Apache-2.0
#include "xdp_presence.h"

#include <cerrno>
#include <cstring>
#include <string>

#include <xdp/libxdp.h>

namespace tandem::director {

Result<bool> xdp_program_present(int ifindex, uint32_t prog_id)
{
	xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	const long err = libxdp_get_error(mp);
	if (err == -ENOENT || (err == 0 && mp == nullptr))
		return false;  // no XDP program at all on the interface
	if (err != 0)
		return make_error("asking libxdp which XDP programs run on interface index " +
					  std::to_string(ifindex) + ": " + std::strerror(static_cast<int>(-err)),
				  static_cast<int>(-err));
	bool found = false;
	if (xdp_multiprog__is_legacy(mp)) {
		const xdp_program *main = xdp_multiprog__main_prog(mp);
		found = main != nullptr && xdp_program__id(main) == prog_id;
	} else {
		for (xdp_program *p = xdp_multiprog__next_prog(nullptr, mp); p != nullptr;
		     p = xdp_multiprog__next_prog(p, mp))
			found = found || xdp_program__id(p) == prog_id;
	}
	xdp_multiprog__close(mp);
	return found;
}

}  // namespace tandem::director
