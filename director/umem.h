// SPDX-License-Identifier: Apache-2.0
// The UMEM of one AF_XDP socket: its memory, the libxdp handle, and the fill and
// completion rings. Tandem gives every socket its own UMEM (no sharing): each worker owns
// its frames outright, no frame ever crosses threads, and a queue's rings can be sized
// alone. The cost is memory (frames * frame_size per queue), which is small.
//
// The fill ring is twice the RX ring: it must cover frames the driver holds for hardware
// RX plus frames waiting in the AF_XDP RX ring (as xdpsock does).
#pragma once

#include <cstdint>
#include <memory>

#include <xdp/xsk.h>

#include "result.h"

namespace tandem::director {

// What backs the frames: reserved huge pages, transparent huge pages (asked for with
// madvise; the kernel may still use 4 KiB pages), or normal pages.
enum class UmemPages : uint8_t { hugetlb, transparent_huge, normal };
const char *to_string(UmemPages p);

struct UmemParams {
	uint32_t frame_size = 4096;
	uint32_t ring_size = 2048;  // RX, TX and completion; fill is twice that
};

class Umem {
public:
	static Result<Umem> create(const UmemParams &p);

	Umem(Umem &&) noexcept = default;
	Umem &operator=(Umem &&) noexcept = default;
	~Umem();

	xsk_umem *handle() const { return s_->umem; }
	xsk_ring_prod &fill() { return s_->fill; }
	xsk_ring_cons &comp() { return s_->comp; }
	uint8_t *area() const { return s_->area; }
	uint32_t frame_size() const { return s_->frame_size; }
	uint32_t frame_count() const { return s_->frame_count; }
	uint32_t fill_size() const { return s_->fill_size; }
	UmemPages pages() const { return s_->pages; }

private:
	// libxdp keeps pointers to the rings, so they live at a fixed address.
	struct State {
		uint8_t *area = nullptr;
		size_t size = 0;
		xsk_umem *umem = nullptr;
		xsk_ring_prod fill{};
		xsk_ring_cons comp{};
		uint32_t frame_size = 0;
		uint32_t frame_count = 0;
		uint32_t fill_size = 0;
		UmemPages pages = UmemPages::normal;
	};
	explicit Umem(std::unique_ptr<State> s) : s_(std::move(s)) {}
	std::unique_ptr<State> s_;
};

}  // namespace tandem::director
