// SPDX-License-Identifier: Apache-2.0
#include "umem.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace tandem::director {

const char *to_string(UmemPages p)
{
	switch (p) {
	case UmemPages::hugetlb: return "hugetlb";
	case UmemPages::transparent_huge: return "thp";
	case UmemPages::normal: break;
	}
	return "4k";
}

Result<Umem> Umem::create(const UmemParams &p)
{
	if (p.frame_size != 2048 && p.frame_size != 4096)
		return make_error("director.frame_size must be 2048 or 4096, not " +
				  std::to_string(p.frame_size));
	auto s = std::make_unique<State>();
	s->frame_size = p.frame_size;
	s->fill_size = 2 * p.ring_size;
	// Frames: the fill ring full, the RX ring full, the TX ring full, in flight on the
	// completion ring, all at once; so no ring can ever starve another.
	s->frame_count = 4 * p.ring_size;
	s->size = size_t{s->frame_count} * p.frame_size;
	// Huge pages keep the frames' TLB footprint small (32 MiB on 4 KiB pages is 8192 TLB
	// entries): reserved ones (hugetlbfs) when the host has them, else transparent huge
	// pages where the kernel can give them.
	void *area = mmap(nullptr, s->size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	s->pages = UmemPages::hugetlb;
	if (area == MAP_FAILED) {
		area = mmap(nullptr, s->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (area == MAP_FAILED)
			return make_error("mmap of " + std::to_string(s->size) + " bytes for the UMEM: " +
						  std::strerror(errno),
					  errno);
		s->pages = madvise(area, s->size, MADV_HUGEPAGE) == 0 ? UmemPages::transparent_huge
								       : UmemPages::normal;
	}
	s->area = static_cast<uint8_t *>(area);
	const xsk_umem_config cfg = {
		.fill_size = s->fill_size,
		.comp_size = p.ring_size,
		.frame_size = p.frame_size,
		// The encapsulation needs at most 110 bytes in front of the inner packet and
		// every frame already starts XDP_PACKET_HEADROOM (256) bytes in; see worker.cpp.
		.frame_headroom = 0,
		.flags = 0,
	};
	int err = xsk_umem__create(&s->umem, s->area, s->size, &s->fill, &s->comp, &cfg);
	if (err != 0) {
		munmap(s->area, s->size);
		s->area = nullptr;
		return make_error(std::string("xsk_umem__create: ") + std::strerror(-err), -err);
	}
	return Umem(std::move(s));
}

Umem::~Umem()
{
	if (!s_)
		return;
	if (s_->umem != nullptr)
		xsk_umem__delete(s_->umem);  // the sockets are gone by now (see Worker)
	if (s_->area != nullptr)
		munmap(s_->area, s_->size);
}

}  // namespace tandem::director
